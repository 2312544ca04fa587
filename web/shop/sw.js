// The storefront's service worker: shows what the shop pushes (`{"title","body","url"}`, API.md,
// Messages) and opens its link when the notification is clicked. It caches nothing: the shop is live.
self.addEventListener('push', (event) => {
  let message = {};
  try { message = event.data ? event.data.json() : {}; } catch { message = { body: event.data?.text() }; }
  event.waitUntil(self.registration.showNotification(message.title || 'The shop', {
    body: message.body || '',
    data: { url: message.url || self.registration.scope },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || self.registration.scope, self.registration.scope);
  event.waitUntil(self.clients.openWindow(url.href));
});
