#include "dht/krpc.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/expect_error.hpp"

namespace starling::dht {
namespace {

using namespace std::string_literals;

NodeId id_of(char c) {
  return *NodeId::from_bytes(std::string(20, c));
}

PeerAddress addr(const char* ip, std::uint16_t port) {
  return PeerAddress{*tracker::IpAddress::parse(ip), port};
}

TEST(Krpc, DecodesBep5PingQueryAndEncodesItBack) {
  const std::string ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  auto m = decode_krpc(ping);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->kind, MessageKind::query);
  EXPECT_EQ(m->method, Method::ping);
  EXPECT_EQ(m->transaction, "aa");
  EXPECT_EQ(m->id.view(), "abcdefghij0123456789");
  EXPECT_EQ(encode_krpc(*m), ping);
}

TEST(Krpc, RoundTripsEveryQuery) {
  KrpcMessage q;
  q.transaction = "t1";
  q.id = id_of('a');
  q.version = "ST01";
  for (Method method :
       {Method::ping, Method::find_node, Method::get_peers, Method::announce_peer}) {
    q.method = method;
    q.target = id_of('b');
    q.info_hash = id_of('c');
    q.port = 6881;
    q.token = "tok";
    auto back = decode_krpc(encode_krpc(q));
    ASSERT_TRUE(back) << method_name(method) << ": " << back.error().message();
    EXPECT_EQ(back->method, method);
    EXPECT_EQ(back->id, q.id);
    EXPECT_EQ(back->version, "ST01");
    if (method == Method::find_node) {
      EXPECT_EQ(back->target, q.target);
    }
    if (method == Method::get_peers) {
      EXPECT_EQ(back->info_hash, q.info_hash);
    }
    if (method == Method::announce_peer) {
      EXPECT_EQ(back->port, 6881);
      EXPECT_EQ(back->token, "tok");
      EXPECT_FALSE(back->implied_port);
    }
  }
}

TEST(Krpc, RoundTripsAResponseWithNodesValuesTokenAndIp) {
  KrpcMessage r;
  r.kind = MessageKind::response;
  r.transaction = "xy";
  r.id = id_of('z');
  r.token = "12345678";
  r.nodes = {NodeInfo{id_of('n'), addr("10.0.0.1", 1000)},
             NodeInfo{id_of('m'), addr("127.0.0.1", 2)}};
  r.values = {addr("1.2.3.4", 6881), addr("::1", 7000)};
  r.ip = addr("9.8.7.6", 5);
  auto back = decode_krpc(encode_krpc(r));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->kind, MessageKind::response);
  EXPECT_EQ(back->nodes, r.nodes);
  EXPECT_EQ(back->values, r.values);
  EXPECT_EQ(back->token, r.token);
  ASSERT_TRUE(back->ip);
  EXPECT_EQ(*back->ip, *r.ip);
}

TEST(Krpc, DecodesErrorsAndUnknownMethods) {
  auto e = decode_krpc("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->kind, MessageKind::error);
  EXPECT_EQ(e->error_code, 201);
  EXPECT_EQ(e->error_message, "A Generic Error Ocurred");
  auto q = decode_krpc("d1:ad2:id20:abcdefghij0123456789e1:q9:vote_spam1:t1:x1:y1:qe");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->method, Method::unknown);
  EXPECT_EQ(q->method_name, "vote_spam");
}

TEST(Krpc, SkipsMalformedValuesAndPartialNodes) {
  // One good value, one of 5 bytes; nodes of 26 + 3 bytes.
  std::string good_node = std::string(20, 'q') + "\x7f\x00\x00\x01\x1a\xe1"s;
  const std::string reply =
      "d1:rd2:id20:abcdefghij0123456789"
      "5:nodes29:" +
      good_node + "abc" +
      "6:valuesl6:\x01\x02\x03\x04\x1a\xe1"
      "5:abcdeee1:t2:aa1:y1:re"s;
  auto m = decode_krpc(reply);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->nodes.size(), 1u);
  EXPECT_EQ(m->nodes[0].address, addr("127.0.0.1", 6881));
  ASSERT_EQ(m->values.size(), 1u);
  EXPECT_EQ(m->values[0], addr("1.2.3.4", 6881));
}

TEST(Krpc, RefusesUnusableMessagesWithTheFieldNamed) {
  struct Case {
    std::string input;
    std::string names;
  };
  for (const auto& c : std::vector<Case>{
           {"", "bencode"},
           {"le", "dictionary"},
           {"d1:y1:qe", "'t'"},
           {"d1:t2:aa1:y1:xe", "'y'"},
           {"d1:t2:aa1:y1:qe", "'q'"},
           {"d1:q4:ping1:t2:aa1:y1:qe", "'a'"},
           {"d1:ade1:q4:ping1:t2:aa1:y1:qe", "'id'"},
           {"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", "20 bytes"},
           {"d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe", "'target'"},
           {"d1:ad2:id20:abcdefghij01234567899:info_hash20:abcdefghij0123456789"
            "4:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
            "port"},
           {"d1:t2:aa1:y1:re", "'r'"},
       }) {
    auto m = decode_krpc(c.input);
    ASSERT_FALSE(m) << testing::printable(c.input);
    EXPECT_EQ(m.error().code, Errc::dht_bad_message);
    EXPECT_NE(m.error().message().find(c.names), std::string::npos)
        << testing::printable(c.input) << ": " << m.error().message();
  }
  EXPECT_FALSE(decode_krpc(std::string(5000, 'd')));  // over the size limit
}

}  // namespace
}  // namespace starling::dht
