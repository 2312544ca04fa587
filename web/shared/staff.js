// Staff sign-in, shared by the back office and the till: an API key exchanged for a session whose
// cookie is HttpOnly (the page never holds a credential it could leak), and the CSRF token the page
// sends with each write. The key field is cleared as soon as it is read; nothing is stored.
import { api, Problem, h, setCSRFToken } from './api.js';

/**
 * Follows the staff session of this page: `onStart(session)` once signed in (now, or after the form),
 * `onEnd()` when it ends. The returned `signIn(message)` shows the form again, for a 401 or sign-out.
 */
export function staffSession({ view, keyLabel, keyHint, onStart, onEnd }) {
  const signIn = (message) => {
    setCSRFToken(null);
    onEnd();
    const error = h('div', { 'aria-live': 'assertive' }, message ? h('p', { class: 'notice error', role: 'alert' }, message) : null);
    const form = h('form', {},
      h('label', { for: 'key' }, keyLabel),
      h('input', { id: 'key', name: 'key', type: 'password', autocomplete: 'off', required: true }),
      h('p', { class: 'muted' }, keyHint),
      error,
      h('button', { type: 'submit' }, 'Sign in'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const key = form.elements.key.value;
      form.elements.key.value = '';
      try {
        start(await api('POST', '/v1/sessions', { key }));
      } catch (problem) {
        error.replaceChildren(h('p', { class: 'notice error', role: 'alert' },
          problem instanceof Problem && problem.status === 401 ? 'That key is not valid.' : problem.message));
      }
    });
    view.replaceChildren(h('h2', {}, 'Sign in'), form);
    form.elements.key.focus();
  };
  const start = (session) => {
    setCSRFToken(session.csrf_token);
    onStart(session);
  };
  const signOut = async () => {
    try { await api('DELETE', '/v1/sessions/current'); } catch (error) { console.warn(error); }
    signIn('Signed out.');
  };
  api('GET', '/v1/sessions/current').then(start, (error) => {
    if (error instanceof Problem && error.status === 401) signIn(); else signIn(error.message);
  });
  return { signIn, signOut };
}

/** A notice that goes after a while: `kind` "error" is an alert, anything else a status. */
export function notifier(container) {
  return (text, kind = '') => {
    const element = h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
    container.append(element);
    setTimeout(() => element.remove(), 8000);
    return element;
  };
}
