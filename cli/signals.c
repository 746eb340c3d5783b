/* signals.c - the stop and reload handlers of the long-running
 * subcommands. */
#include <signal.h>
#include <string.h>

#include "cli/cli.h"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static void on_signal(int sig)
{
        if (sig == SIGHUP)
                reload_flag = 1;
        else
                stop_flag = 1;
}

void ab_cli_install_stop_handlers(volatile sig_atomic_t **flag)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        stop_flag = 0;
        *flag     = &stop_flag;
}

void ab_cli_install_reload_handler(volatile sig_atomic_t **flag)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        if (flag) {
                sa.sa_handler = on_signal;
                reload_flag   = 0;
                *flag         = &reload_flag;
        } else {
                sa.sa_handler = SIG_IGN;
        }
        sigemptyset(&sa.sa_mask);
        sigaction(SIGHUP, &sa, NULL);
}
