#include "metainfo/metadata_file.hpp"

#include "bencode/encoder.hpp"

namespace starling {

std::string make_torrent_file(std::string_view info_bytes,
                              const std::vector<std::string>& trackers) {
  std::string out;
  bencode::Encoder e(out);
  e.begin_dict();  // keys in order: announce, announce-list, info
  if (!trackers.empty()) {
    e.string("announce");
    e.string(trackers.front());
    e.string("announce-list");
    e.begin_list();
    for (const auto& url : trackers) {
      e.begin_list();
      e.string(url);
      e.end();
    }
    e.end();
  }
  e.string("info");
  e.raw(info_bytes);
  e.end();
  return out;
}

}  // namespace starling
