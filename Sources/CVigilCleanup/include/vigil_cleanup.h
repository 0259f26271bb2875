#ifndef VIGIL_CLEANUP_H
#define VIGIL_CLEANUP_H

/* Temporary files and folders removed when the process is interrupted.
 *
 * Vigil writes every output under a temporary name and renames it into place. If SIGINT, SIGTERM,
 * SIGHUP or SIGQUIT arrives before the rename, the handler installed here unlinks every registered
 * temporary file (unlink is async-signal-safe) and removes every registered staging folder (with raw
 * getdents64, openat and unlinkat calls, also async-signal-safe), then lets the signal do what it did before: the
 * previous handler runs, or the default action (usually termination) is restored and the signal
 * raised again. Signals that were ignored when the handlers were installed stay ignored. */

/* Installs the handlers once; later calls do nothing. Returns 0, or -1 if sigaction failed. */
int vigil_cleanup_install(void);

/* Registers a path to unlink on a signal. Returns a slot (>= 0) for vigil_cleanup_unregister, or
 * -1 when the table is full or the path is longer than VIGIL_CLEANUP_PATH_MAX - 1 bytes. */
int vigil_cleanup_register(const char *path);

/* Registers a folder to remove, with everything in it, on a signal (a staging folder that is renamed
   into place when complete). Symbolic links in it are removed, never followed. Returns a slot, or -1
   as vigil_cleanup_register. */
int vigil_cleanup_register_tree(const char *path);

/* Forgets a slot returned by vigil_cleanup_register (does not unlink). Negative slots are ignored. */
void vigil_cleanup_unregister(int slot);

/* Brackets the creation and registration of a temporary file. A handled signal that arrives
 * meanwhile on another thread (a process-directed signal goes to any thread that does not block
 * it) is deferred: the handler returns, and vigil_cleanup_end_create raises it again once the new
 * file is registered, so that the handler then unlinks it too. Calls may nest and overlap across
 * threads. */
void vigil_cleanup_begin_create(void);
void vigil_cleanup_end_create(void);

/* The number of registered paths (for tests). */
int vigil_cleanup_count(void);

#define VIGIL_CLEANUP_SLOTS 256
#define VIGIL_CLEANUP_PATH_MAX 4096

#endif
