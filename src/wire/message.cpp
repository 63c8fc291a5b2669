#include "wire/message.hpp"

#include <algorithm>
#include <limits>

#include "core/overloaded.hpp"

namespace starling::wire {

std::string_view message_name(const Message& message) {
  return std::visit(Overloaded{
                        [](const KeepAlive&) { return std::string_view("keep-alive"); },
                        [](const Choke&) { return std::string_view("choke"); },
                        [](const Unchoke&) { return std::string_view("unchoke"); },
                        [](const Interested&) { return std::string_view("interested"); },
                        [](const NotInterested&) { return std::string_view("not interested"); },
                        [](const Have&) { return std::string_view("have"); },
                        [](const BitfieldMessage&) { return std::string_view("bitfield"); },
                        [](const Request&) { return std::string_view("request"); },
                        [](const Piece&) { return std::string_view("piece"); },
                        [](const Cancel&) { return std::string_view("cancel"); },
                        [](const Port&) { return std::string_view("port"); },
                        [](const Suggest&) { return std::string_view("suggest"); },
                        [](const HaveAll&) { return std::string_view("have all"); },
                        [](const HaveNone&) { return std::string_view("have none"); },
                        [](const Reject&) { return std::string_view("reject"); },
                        [](const AllowedFast&) { return std::string_view("allowed fast"); },
                        [](const Extended&) { return std::string_view("extended"); },
                        [](const Unknown&) { return std::string_view("unknown"); },
                    },
                    message);
}

}  // namespace starling::wire
