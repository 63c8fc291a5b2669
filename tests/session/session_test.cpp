#include "session/session.hpp"

#include <gtest/gtest.h>

namespace starling::session {
namespace {

TEST(Session, TcpPeerSocketsGetTheReceiveBufferUnlessDownloadsAreLimited) {
  SessionSettings settings;
  settings.tcp_receive_buffer = 1 << 20;
  EXPECT_EQ(Session(settings).tcp_options().receive_buffer, 1 << 20);
  // Under a download limit data waits in the socket: the kernel's autotuning keeps it small.
  settings.max_download_rate = 100'000;
  EXPECT_EQ(Session(settings).tcp_options().receive_buffer, 0);
}

}  // namespace
}  // namespace starling::session
