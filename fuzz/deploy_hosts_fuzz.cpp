// parse_hosts (the deploy hosts file) and decode_job (the agent's job document) must never
// crash; every host they accept has a port and a host name, and its address() parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "deploy/hosts_file.hpp"
#include "deploy/job_document.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto hosts = starling::deploy::parse_hosts(input)) {
    for (const auto& h : *hosts) {
      if (h.port == 0 || h.host.empty() || h.line <= 0) std::abort();
      auto again = starling::deploy::parse_hosts(h.address() + " " + h.rack);
      if (!again || again->size() != 1 || (*again)[0].host != h.host ||
          (*again)[0].port != h.port || (*again)[0].rack != h.rack) {
        std::abort();
      }
    }
  }
  (void)starling::deploy::decode_job(input, "fuzz-secret");
  return 0;
}
