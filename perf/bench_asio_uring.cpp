// Ping-pong through Boost.Asio built with its io_uring backend
// (BOOST_ASIO_HAS_IO_URING, BOOST_ASIO_DISABLE_EPOLL).
#include "asio_pingpong.hpp"

using namespace qwire::bench;

static void pingpong_asio_uring(benchmark::State& state) { asio_pingpong(state, static_cast<placement>(state.range(0))); }
BENCHMARK(pingpong_asio_uring)->Arg(0)->Arg(1)->UseRealTime();

BENCHMARK_MAIN();
