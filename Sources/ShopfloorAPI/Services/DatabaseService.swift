import Logging
import ServiceLifecycle
import ShopfloorStorage

/// Owns closing the database: first in the application's service list, so the group shuts it down
/// last, once the HTTP server has drained and every background job has returned.
///
/// The database is opened (and migrated) by `Application.init`, before anything is served; this service
/// does nothing until shutdown reaches it, then closes the database, which waits for queued writes and
/// their syncs. Should the group be cancelled instead (a service ended by itself, which is a bug), it
/// closes at once; a job still writing then gets `CancellationError` from the writer, not a crash.
struct DatabaseService: Service {
    let database: Database
    let logger: Logger

    func run() async {
        try? await gracefulShutdown()
        database.close()
        logger.debug("database closed")
    }
}
