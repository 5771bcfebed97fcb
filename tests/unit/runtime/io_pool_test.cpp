// at_round_end: work an I/O round hands on runs after the handlers that round has
// ready, on the same thread, in the order it was asked for; off the pool, at once.
#include "evmesh/runtime/io_pool.h"

#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

namespace evmesh {
namespace {

namespace asio = boost::asio;

TEST(AtRoundEnd, RunsAfterTheHandlersAlreadyReadyInOrder) {
  IoPool pool(1);
  std::vector<std::string> order;
  std::thread::id loop_thread, end_thread;
  asio::post(pool.main(), [&] {
    loop_thread = std::this_thread::get_id();
    order.push_back("a");
    at_round_end([&] { order.push_back("end 1"); });
    at_round_end([&] {
      order.push_back("end 2");
      end_thread = std::this_thread::get_id();
      pool.stop();
    });
  });
  asio::post(pool.main(), [&] { order.push_back("b"); });
  asio::post(pool.main(), [&] { order.push_back("c"); });
  pool.run();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "end 1", "end 2"}));
  EXPECT_EQ(end_thread, loop_thread);
}

TEST(AtRoundEnd, EachRoundGetsItsOwnTurn) {
  IoPool pool(1);
  std::vector<std::string> order;
  asio::post(pool.main(), [&] {
    at_round_end([&] {
      order.push_back("end 1");
      asio::post(pool.main(), [&] { order.push_back("next"); });
      // Asked for from a round-end function: after what is ready by then.
      at_round_end([&] {
        order.push_back("end 2");
        pool.stop();
      });
    });
  });
  pool.run();
  EXPECT_EQ(order, (std::vector<std::string>{"end 1", "next", "end 2"}));
}

TEST(AtRoundEnd, OffThePoolRunsAtOnce) {
  bool ran = false;
  at_round_end([&] { ran = true; });
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace evmesh
