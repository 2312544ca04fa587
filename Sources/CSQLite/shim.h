#ifndef SHOPFLOOR_CSQLITE_SHIM_H
#define SHOPFLOOR_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: it tells SQLite to copy bound bytes.
static inline sqlite3_destructor_type shopfloor_sqlite_transient(void) { return SQLITE_TRANSIENT; }
// sqlite3_config and sqlite3_db_config are variadic, which Swift cannot call.
// Memory statistics off: counting them takes a process-wide mutex on every allocation. Only takes
// effect before SQLite initialises (the first connection opened); SQLITE_MISUSE after.
static inline int shopfloor_sqlite_disable_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
#endif
