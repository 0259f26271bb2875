#include "vigil_cleanup.h"

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A slot is FREE, being FILLED by one thread, or READY (its path may be unlinked by the handler). */
enum { FREE = 0, FILLING = 1, READY = 2 };

static _Atomic int slot_state[VIGIL_CLEANUP_SLOTS];
static char slot_path[VIGIL_CLEANUP_SLOTS][VIGIL_CLEANUP_PATH_MAX];
/* 1: the slot is a folder, removed with everything in it. */
static int slot_tree[VIGIL_CLEANUP_SLOTS];

/* Folders nested deeper than this below a registered folder are left (with their parents). */
#define TREE_DEPTH 32

#if defined(__linux__) && defined(SYS_getdents64)
/* The entries of an open folder with the raw getdents64 system call: unlike readdir (which may
   allocate), it is safe in a signal handler. */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Removes everything in the open folder `fd`, depth-first; a pass that removes nothing ends it. */
static void remove_contents(int fd, int depth) {
    char buffer[2048] __attribute__((aligned(8)));
    for (int removed = 1; removed;) {
        removed = 0;
        if (lseek(fd, 0, SEEK_SET) < 0) return;
        long n;
        while ((n = syscall(SYS_getdents64, fd, buffer, sizeof buffer)) > 0) {
            for (long at = 0; at < n;) {
                struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + at);
                at += entry->d_reclen;
                const char *name = entry->d_name;
                if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
                if (entry->d_type != DT_DIR && unlinkat(fd, name, 0) == 0) { removed = 1; continue; }
                if (depth >= TREE_DEPTH) continue;
                int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) continue;
                remove_contents(sub, depth + 1);
                close(sub);
                if (unlinkat(fd, name, AT_REMOVEDIR) == 0) removed = 1;
            }
        }
    }
}

static void remove_tree(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    remove_contents(fd, 0);
    close(fd);
    rmdir(path);
}
#else
/* Without getdents64 only an empty folder is removed. */
static void remove_tree(const char *path) { rmdir(path); }
#endif

static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define HANDLED_COUNT (int)(sizeof handled_signals / sizeof handled_signals[0])
static struct sigaction previous[HANDLED_COUNT];
static atomic_flag installed = ATOMIC_FLAG_INIT;

static void unlink_registered(void) {
    for (int i = 0; i < VIGIL_CLEANUP_SLOTS; i++) {
        if (atomic_load(&slot_state[i]) != READY) continue;
        if (slot_tree[i]) remove_tree(slot_path[i]);
        else unlink(slot_path[i]);
    }
}

/* Temporary files being created (between mkstemp and their registration), and a signal deferred
   until they are registered. */
static _Atomic int creating = 0;
static _Atomic int pending_signal = 0;

static void handle(int sig, siginfo_t *info, void *context) {
    int saved = errno;
    if (atomic_load(&creating) > 0) {
        atomic_store(&pending_signal, sig);
        /* Still creating: vigil_cleanup_end_create raises the signal again. Done meanwhile: whoever
           takes the pending signal first (here or there) handles it. */
        if (atomic_load(&creating) > 0 || atomic_exchange(&pending_signal, 0) == 0) {
            errno = saved;
            return;
        }
    }
    unlink_registered();
    for (int i = 0; i < HANDLED_COUNT; i++) {
        if (handled_signals[i] != sig) continue;
        struct sigaction *old = &previous[i];
        if (old->sa_flags & SA_SIGINFO) {
            if (old->sa_sigaction) old->sa_sigaction(sig, info, context);
        } else if (old->sa_handler == SIG_DFL) {
            /* Back to the default action; the signal is blocked while this handler runs, so it is
               delivered again (and terminates the process) as soon as the handler returns. */
            sigaction(sig, old, NULL);
            raise(sig);
        } else if (old->sa_handler != SIG_IGN) {
            old->sa_handler(sig);
        }
    }
    errno = saved;
}

int vigil_cleanup_install(void) {
    if (atomic_flag_test_and_set(&installed)) return 0;
    int status = 0;
    for (int i = 0; i < HANDLED_COUNT; i++) {
        if (sigaction(handled_signals[i], NULL, &previous[i]) != 0) { status = -1; continue; }
        /* A signal ignored by whoever started us (nohup, a shell's background job) stays ignored. */
        if (!(previous[i].sa_flags & SA_SIGINFO) && previous[i].sa_handler == SIG_IGN) continue;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = handle;
        action.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(handled_signals[i], &action, NULL) != 0) status = -1;
    }
    return status;
}

static int register_path(const char *path, int tree) {
    size_t length = strlen(path);
    if (length >= VIGIL_CLEANUP_PATH_MAX) return -1;
    for (int i = 0; i < VIGIL_CLEANUP_SLOTS; i++) {
        int expected = FREE;
        if (!atomic_compare_exchange_strong(&slot_state[i], &expected, FILLING)) continue;
        memcpy(slot_path[i], path, length + 1);
        slot_tree[i] = tree;
        atomic_store(&slot_state[i], READY);
        return i;
    }
    return -1;
}

int vigil_cleanup_register(const char *path) { return register_path(path, 0); }

int vigil_cleanup_register_tree(const char *path) { return register_path(path, 1); }

void vigil_cleanup_unregister(int slot) {
    if (slot < 0 || slot >= VIGIL_CLEANUP_SLOTS) return;
    atomic_store(&slot_state[slot], FREE);
}

void vigil_cleanup_begin_create(void) { atomic_fetch_add(&creating, 1); }

void vigil_cleanup_end_create(void) {
    atomic_fetch_sub(&creating, 1);
    int sig = atomic_exchange(&pending_signal, 0);
    if (sig != 0) raise(sig);
}

int vigil_cleanup_count(void) {
    int count = 0;
    for (int i = 0; i < VIGIL_CLEANUP_SLOTS; i++) count += atomic_load(&slot_state[i]) == READY;
    return count;
}
