/* syslogmsg: being written. */
#include "config.h"

#include "syslogmsg.h"
