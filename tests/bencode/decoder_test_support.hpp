// Helpers shared by the decoder's test files.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "bencode/decoder.hpp"
#include "support/expect_error.hpp"

namespace starling::bencode::test {

// "<length>:<bytes>", written by hand so the tests do not depend on the encoder.
inline std::string S(std::string_view bytes) {
  return std::to_string(bytes.size()) + ":" + std::string(bytes);
}

inline ::testing::AssertionResult FailsWith(std::string_view input, Errc code, std::size_t offset,
                                            const DecodeLimits& limits = {}) {
  return testing::fails_with(decode(input, limits), input, "decoded", code, offset);
}

}  // namespace starling::bencode::test
