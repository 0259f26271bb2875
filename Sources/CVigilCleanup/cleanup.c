#include "vigil_cleanup.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* A slot is FREE, being FILLED by one thread, or READY (its path may be unlinked by the handler). */
enum { FREE = 0, FILLING = 1, READY = 2 };

static _Atomic int slot_state[VIGIL_CLEANUP_SLOTS];
static char slot_path[VIGIL_CLEANUP_SLOTS][VIGIL_CLEANUP_PATH_MAX];

static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define HANDLED_COUNT (int)(sizeof handled_signals / sizeof handled_signals[0])
static struct sigaction previous[HANDLED_COUNT];
static atomic_flag installed = ATOMIC_FLAG_INIT;

static void unlink_registered(void) {
    for (int i = 0; i < VIGIL_CLEANUP_SLOTS; i++) {
        if (atomic_load(&slot_state[i]) == READY) unlink(slot_path[i]);
    }
}

static void handle(int sig, siginfo_t *info, void *context) {
    int saved = errno;
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

int vigil_cleanup_register(const char *path) {
    size_t length = strlen(path);
    if (length >= VIGIL_CLEANUP_PATH_MAX) return -1;
    for (int i = 0; i < VIGIL_CLEANUP_SLOTS; i++) {
        int expected = FREE;
        if (!atomic_compare_exchange_strong(&slot_state[i], &expected, FILLING)) continue;
        memcpy(slot_path[i], path, length + 1);
        atomic_store(&slot_state[i], READY);
        return i;
    }
    return -1;
}

void vigil_cleanup_unregister(int slot) {
    if (slot < 0 || slot >= VIGIL_CLEANUP_SLOTS) return;
    atomic_store(&slot_state[slot], FREE);
}

int vigil_cleanup_count(void) {
    int count = 0;
    for (int i = 0; i < VIGIL_CLEANUP_SLOTS; i++) count += atomic_load(&slot_state[i]) == READY;
    return count;
}
