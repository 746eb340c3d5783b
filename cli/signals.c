/* signals.c - the stop handlers every long-running subcommand installs. */
#include <signal.h>
#include <string.h>

#include "cli/cli.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
        (void)sig;
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
