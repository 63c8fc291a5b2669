// Expecting a parse to fail with a given error at a given byte, with readable failure messages.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace starling::testing {

// `bytes` as text for a failure message: printable ASCII as is, every other byte as \xNN.
inline std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back("0123456789abcdef"[c >> 4]);
      out.push_back("0123456789abcdef"[c & 0xf]);
    }
  }
  return out;
}

// Success when `result` (an Expected<T> from parsing `input`) holds an error with `code` at byte
// `offset`. Otherwise the failure quotes the input and says what happened instead: `success_verb`
// (e.g. "decoded", "parsed") when the parse succeeded, or the error and where it was.
template <class Result>
::testing::AssertionResult fails_with(const Result& result, std::string_view input,
                                      std::string_view success_verb, Errc code,
                                      std::size_t offset) {
  if (result) {
    return ::testing::AssertionFailure() << "'" << printable(input) << "' " << success_verb;
  }
  const Error& e = result.error();
  if (e.code != make_error_code(code) || e.offset != offset) {
    return ::testing::AssertionFailure()
           << "'" << printable(input) << "': got \"" << e.message() << "\" at byte "
           << (e.has_offset() ? std::to_string(e.offset) : "-") << ", expected \""
           << make_error_code(code).message() << "\" at byte " << offset;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace starling::testing
