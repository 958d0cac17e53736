// Runs a worker's io_context until it stops or runs out of work, optionally busy polling.
//
// With busy polling, a worker that finds nothing to do keeps polling (epoll_wait with a zero timeout) for up
// to `busy_poll` since its last event before it sleeps. On a virtual machine whose idle vCPUs halt, every
// sleep and wakeup of a thread is a VM exit and an interrupt from the host, tens of microseconds each: more
// than a loopback round trip to Redis or to the upstream. Polling through that wait saves them at light load
// (bench/README.md measures it at c=1) and costs CPU: up to one core per worker while events keep arriving
// within the window. Under heavy load there is always an event ready and it changes nothing. While it polls a
// worker yields its CPU to any other runnable thread. HAProxy's `busy-polling` is the same trade, made
// unbounded; here the window bounds it, so an idle worker still sleeps.
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>

namespace gatehouse::proxy {

void runEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll);

}  // namespace gatehouse::proxy
