#include "wire/extension_handshake.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/expect_error.hpp"

namespace starling::wire {
namespace {

using namespace std::string_literals;
using starling::testing::fails_with;

TEST(ExtensionHandshake, ParsesAMinimalLibtorrentStylePayload) {
  const std::string payload =
      "d1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6881e4:reqqi500e1:v16:libtorrent/2.0.8e";
  auto h = parse_extension_handshake(payload);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->m.size(), 2u);
  EXPECT_EQ(h->id_of("ut_metadata"), 2);
  EXPECT_EQ(h->id_of("ut_pex"), 1);
  EXPECT_EQ(h->id_of("lt_donthave"), std::nullopt);
  EXPECT_EQ(h->p, 6881);
  EXPECT_EQ(h->reqq, 500);
  EXPECT_EQ(h->v, "libtorrent/2.0.8");
  EXPECT_EQ(h->metadata_size, std::nullopt);
  EXPECT_EQ(h->yourip, "");
}

TEST(ExtensionHandshake, ParsesAFullLibtorrentPayload) {
  // As libtorrent 2.0 sends it: unknown keys, a negative complete_ago, upload_only twice (in
  // "m" and at the top level) and a 4-byte yourip.
  const std::string payload =
      "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e"
      "12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e4:reqqi500e"
      "11:upload_onlyi0e1:v18:libtorrent/2.0.8.06:yourip4:\x7f\x00\x00\x01"
      "e"s;
  auto h = parse_extension_handshake(payload);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->m.size(), 6u);
  EXPECT_EQ(h->id_of("lt_donthave"), 7);
  EXPECT_EQ(h->id_of("ut_holepunch"), 4);
  EXPECT_EQ(h->metadata_size, 31235);
  EXPECT_EQ(h->reqq, 500);
  EXPECT_EQ(h->p, std::nullopt);
  EXPECT_EQ(h->v, "libtorrent/2.0.8.0");
  EXPECT_EQ(h->yourip, "\x7f\x00\x00\x01"s);
}

TEST(ExtensionHandshake, ParsesATransmissionPayloadWithIpv6) {
  const std::string ipv6(16, '\x20');
  const std::string payload = "d1:ei0e4:ipv616:" + ipv6 +
                              "1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei5e"
                              "1:pi51413e4:reqqi512e1:v17:Transmission 4.0.6:yourip16:" +
                              ipv6 + "e";
  auto h = parse_extension_handshake(payload);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->id_of("ut_metadata"), 3);
  EXPECT_EQ(h->p, 51413);
  EXPECT_EQ(h->reqq, 512);
  EXPECT_EQ(h->metadata_size, 5);
  EXPECT_EQ(h->v, "Transmission 4.0.");
  EXPECT_EQ(h->yourip, ipv6);
}

TEST(ExtensionHandshake, ToleratesUnsortedKeysAndTrailingBytes) {
  auto h = parse_extension_handshake("d1:v3:abc1:md6:ut_pexi5eeetrailing");
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->v, "abc");
  EXPECT_EQ(h->id_of("ut_pex"), 5);
}

TEST(ExtensionHandshake, KeepsDisabledExtensions) {
  auto h = parse_extension_handshake("d1:md11:ut_metadatai0e6:ut_pexi1eee");
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->m.at("ut_metadata"), 0);
  EXPECT_EQ(h->id_of("ut_metadata"), std::nullopt);
  EXPECT_EQ(h->id_of("ut_pex"), 1);
}

TEST(ExtensionHandshake, IgnoresFieldsOfTheWrongTypeOrRange) {
  const std::string payload =
      "d1:md1:ai-1e1:bi256e1:c3:str1:dli1ee1:ei255ee"  // only "e" survives
      "13:metadata_sizei0e1:pi65536e4:reqqi-5e1:vi7e6:yourip5:12345e";
  auto h = parse_extension_handshake(payload);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->m.size(), 1u);
  EXPECT_EQ(h->id_of("e"), 255);
  EXPECT_EQ(h->metadata_size, std::nullopt);
  EXPECT_EQ(h->p, std::nullopt);
  EXPECT_EQ(h->reqq, std::nullopt);
  EXPECT_EQ(h->v, "");
  EXPECT_EQ(h->yourip, "");

  for (const char* odd : {"d1:m3:abce", "d1:mli1eee", "d1:pi0e4:reqqi0ee", "de"}) {
    auto lenient = parse_extension_handshake(odd);
    ASSERT_TRUE(lenient) << odd << ": " << lenient.error().message();
    EXPECT_TRUE(lenient->m.empty());
    EXPECT_EQ(lenient->p, std::nullopt);
    EXPECT_EQ(lenient->reqq, std::nullopt);
  }
}

TEST(ExtensionHandshake, FirstOfDuplicateNamesWins) {
  auto h = parse_extension_handshake("d1:md6:ut_pexi1e6:ut_pexi2eee");
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->id_of("ut_pex"), 1);
}

TEST(ExtensionHandshake, RejectsANonDictionary) {
  for (const char* payload : {"i1e", "le", "4:spam", "li1ee"}) {
    auto h = parse_extension_handshake(payload);
    EXPECT_TRUE(fails_with(h, payload, "parsed", Errc::wire_bad_extension_handshake, 0));
    if (!h) {
      EXPECT_EQ(h.error().detail, "not a dictionary");
    }
  }
}

TEST(ExtensionHandshake, RejectsBrokenBencode) {
  auto truncated = parse_extension_handshake("d1:md6:ut_pexi1e");
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, make_error_code(Errc::wire_bad_extension_handshake));
  EXPECT_EQ(truncated.error().detail.rfind("not bencode: bencode: truncated input", 0), 0u)
      << truncated.error().detail;

  auto empty = parse_extension_handshake("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, make_error_code(Errc::wire_bad_extension_handshake));

  auto garbage = parse_extension_handshake("d1:pi0x");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().offset, 6u);  // at the 'x'
}

TEST(ExtensionHandshake, EncodesCanonicalBencode) {
  ExtensionHandshake h;
  h.m = {{"ut_pex", 1}, {"ut_metadata", 2}, {"lt_donthave", 0}};
  h.v = "starling/0.1.0";
  h.p = 6881;
  h.reqq = 250;
  h.metadata_size = 31235;
  h.yourip = "\x0a\x00\x00\x02"s;
  EXPECT_EQ(encode_extension_handshake(h),
            "d1:md11:lt_donthavei0e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e"
            "1:pi6881e4:reqqi250e1:v14:starling/0.1.06:yourip4:\x0a\x00\x00\x02"
            "e"s);
}

TEST(ExtensionHandshake, EncodesOnlyWhatIsSet) {
  EXPECT_EQ(encode_extension_handshake({}), "d1:mdee");
  ExtensionHandshake h;
  h.m["ut_metadata"] = 3;
  EXPECT_EQ(encode_extension_handshake(h), "d1:md11:ut_metadatai3eee");
}

TEST(ExtensionHandshake, RoundTrips) {
  ExtensionHandshake h;
  h.m = {{"ut_metadata", 1}, {"ut_pex", 2}, {"x", 255}};
  h.v = "client \xff";
  h.p = 65535;
  h.reqq = 1;
  h.metadata_size = std::int64_t{1} << 40;
  h.yourip = std::string(16, '\x01');
  auto parsed = parse_extension_handshake(encode_extension_handshake(h));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, h);

  const std::string libtorrent =
      "d1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6881e4:reqqi500e1:v16:libtorrent/2.0.8e";
  auto lt = parse_extension_handshake(libtorrent);
  ASSERT_TRUE(lt);
  EXPECT_EQ(encode_extension_handshake(*lt), libtorrent);  // already canonical: same bytes
}

}  // namespace
}  // namespace starling::wire
