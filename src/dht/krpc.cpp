#include "dht/krpc.hpp"

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace starling::dht {
namespace {

Error bad(std::string detail, std::size_t at = Error::no_offset) {
  return Error(Errc::dht_bad_message, std::move(detail), at);
}

Expected<NodeId> read_id(const bencode::Node& dict, std::string_view key) {
  const auto raw = dict.find_string(key);
  if (!raw) return bad("missing '" + std::string(key) + "'", dict.offset());
  auto id = NodeId::from_bytes(*raw);
  if (!id) return bad("'" + std::string(key) + "' is not 20 bytes", dict.offset());
  return *id;
}

std::optional<PeerAddress> compact_address(std::string_view raw) {
  if (raw.size() != tracker::kCompactV4Size && raw.size() != tracker::kCompactV6Size) {
    return std::nullopt;
  }
  auto parsed = tracker::parse_compact_peers(raw, raw.size() == tracker::kCompactV6Size);
  if (!parsed || parsed->size() != 1) return std::nullopt;
  // A v4-mapped IPv6 address is the IPv4 address it maps.
  return PeerAddress{parsed->front().ip.unmapped(), parsed->front().port};
}

void encode_compact_nodes(bencode::Encoder& e, const std::vector<NodeInfo>& nodes) {
  std::string out;
  for (const auto& node : nodes) {
    if (node.address.ip.unmapped().v6) continue;  // "nodes" is IPv4 only
    out.append(node.id.view());
    tracker::append_compact(out, PeerAddress{node.address.ip.unmapped(), node.address.port});
  }
  e.string(out);
}

}  // namespace

std::string_view method_name(Method method) {
  switch (method) {
    case Method::ping:
      return "ping";
    case Method::find_node:
      return "find_node";
    case Method::get_peers:
      return "get_peers";
    case Method::announce_peer:
      return "announce_peer";
    case Method::unknown:
      break;
  }
  return "unknown";
}

Method method_from_name(std::string_view name) {
  for (Method m : {Method::ping, Method::find_node, Method::get_peers, Method::announce_peer}) {
    if (name == method_name(m)) return m;
  }
  return Method::unknown;
}

Expected<KrpcMessage> decode_krpc(std::string_view datagram, const KrpcLimits& limits) {
  if (datagram.size() > limits.max_datagram) {
    return bad("datagram of " + std::to_string(datagram.size()) + " bytes is over the limit");
  }
  bencode::DecodeLimits decode_limits;
  decode_limits.max_depth = 8;
  decode_limits.max_elements = 2048;
  decode_limits.require_sorted_keys = false;
  auto doc = bencode::decode_prefix(datagram, decode_limits);
  if (!doc) return bad("not bencode: " + doc.error().code.message(), doc.error().offset);
  const bencode::Node root = doc->root();
  if (!root.is_dict()) return bad("not a dictionary", 0);

  KrpcMessage m;
  const auto t = root.find_string("t");
  if (!t) return bad("missing transaction id 't'");
  if (t->size() > limits.max_transaction) return bad("transaction id 't' too long");
  m.transaction = std::string(*t);
  if (const auto v = root.find_string("v")) m.version = std::string(v->substr(0, 16));
  if (const auto ro = root.find_int("ro")) m.read_only = *ro == 1;
  if (const auto ip = root.find_string("ip")) m.ip = compact_address(*ip);

  const auto y = root.find_string("y");
  if (!y || y->size() != 1) return bad("missing or bad message type 'y'");
  switch ((*y)[0]) {
    case 'q': {
      m.kind = MessageKind::query;
      const auto q = root.find_string("q");
      if (!q) return bad("query without method 'q'");
      m.method_name = std::string(q->substr(0, 32));
      m.method = method_from_name(*q);
      const auto a = root.find_dict("a");
      if (!a) return bad("query without arguments 'a'");
      auto id = read_id(*a, "id");
      if (!id) return id.error();
      m.id = *id;
      if (m.method == Method::find_node) {
        auto target = read_id(*a, "target");
        if (!target) return target.error();
        m.target = *target;
      } else if (m.method == Method::get_peers || m.method == Method::announce_peer) {
        auto hash = read_id(*a, "info_hash");
        if (!hash) return hash.error();
        m.info_hash = *hash;
      }
      if (m.method == Method::announce_peer) {
        const auto port = a->find_int("port");
        m.implied_port = a->find_int("implied_port").value_or(0) == 1;
        if (!m.implied_port && (!port || *port < 1 || *port > 65535)) {
          return bad("announce_peer without a valid 'port'");
        }
        if (port && *port >= 1 && *port <= 65535) m.port = static_cast<std::uint16_t>(*port);
        const auto token = a->find_string("token");
        if (!token || token->size() > limits.max_token) return bad("announce_peer 'token'");
        m.token = std::string(*token);
      }
      return m;
    }
    case 'r': {
      m.kind = MessageKind::response;
      const auto r = root.find_dict("r");
      if (!r) return bad("response without 'r'");
      auto id = read_id(*r, "id");
      if (!id) return id.error();
      m.id = *id;
      if (const auto nodes = r->find_string("nodes")) {
        const std::size_t count = std::min(nodes->size() / kCompactNodeSize, limits.max_nodes);
        for (std::size_t i = 0; i < count; ++i) {
          const auto entry = nodes->substr(i * kCompactNodeSize, kCompactNodeSize);
          auto address = compact_address(entry.substr(20));
          if (!address || address->port == 0) continue;
          m.nodes.push_back(NodeInfo{*NodeId::from_bytes(entry.substr(0, 20)), *address});
        }
      }
      if (const auto token = r->find_string("token"); token && token->size() <= limits.max_token) {
        m.token = std::string(*token);
      }
      if (const auto values = r->find_list("values")) {
        for (const auto& value : values->elements()) {
          if (m.values.size() >= limits.max_values) break;
          if (!value.is_string()) continue;
          auto address = compact_address(value.as_string());
          if (address && address->port != 0) m.values.push_back(*address);
        }
      }
      return m;
    }
    case 'e': {
      m.kind = MessageKind::error;
      const auto e = root.find_list("e");
      if (e && e->size() >= 1 && e->at(0).is_int()) {
        const auto code = e->at(0).as_int();
        m.error_code = code >= 0 && code <= 999 ? static_cast<int>(code) : kErrorGeneric;
      }
      if (e && e->size() >= 2 && e->at(1).is_string()) {
        m.error_message = std::string(e->at(1).as_string().substr(0, 200));
      }
      return m;
    }
    default:
      return bad("unknown message type 'y'");
  }
}

std::string encode_krpc(const KrpcMessage& m) {
  std::string out;
  bencode::Encoder e(out);
  e.begin_dict();
  if (m.kind == MessageKind::query) {
    e.string("a");
    e.begin_dict();
    e.string("id");
    e.string(m.id.view());
    if (m.method == Method::announce_peer) {
      e.string("implied_port");
      e.integer(m.implied_port ? 1 : 0);
    }
    if (m.method == Method::get_peers || m.method == Method::announce_peer) {
      e.string("info_hash");
      e.string(m.info_hash.view());
    }
    if (m.method == Method::announce_peer) {
      e.string("port");
      e.integer(m.port);
    }
    if (m.method == Method::find_node) {
      e.string("target");
      e.string(m.target.view());
    }
    if (m.method == Method::announce_peer) {
      e.string("token");
      e.string(m.token);
    }
    e.end();
  }
  if (m.kind == MessageKind::error) {
    e.string("e");
    e.begin_list();
    e.integer(m.error_code);
    e.string(m.error_message);
    e.end();
  }
  if (m.ip) {
    std::string compact;
    tracker::append_compact(compact, PeerAddress{m.ip->ip.unmapped(), m.ip->port});
    e.string("ip");
    e.string(compact);
  }
  if (m.kind == MessageKind::query) {
    e.string("q");
    e.string(m.method == Method::unknown ? m.method_name : method_name(m.method));
  }
  if (m.kind == MessageKind::response) {
    e.string("r");
    e.begin_dict();
    e.string("id");
    e.string(m.id.view());
    if (!m.nodes.empty()) {
      e.string("nodes");
      encode_compact_nodes(e, m.nodes);
    }
    if (!m.token.empty()) {
      e.string("token");
      e.string(m.token);
    }
    if (!m.values.empty()) {
      e.string("values");
      e.begin_list();
      for (const auto& value : m.values) {
        std::string compact;
        tracker::append_compact(compact, PeerAddress{value.ip.unmapped(), value.port});
        e.string(compact);
      }
      e.end();
    }
    e.end();
  }
  if (m.read_only) {
    e.string("ro");
    e.integer(1);
  }
  e.string("t");
  e.string(m.transaction);
  if (!m.version.empty()) {
    e.string("v");
    e.string(m.version);
  }
  e.string("y");
  e.string(m.kind == MessageKind::query ? "q" : m.kind == MessageKind::response ? "r" : "e");
  e.end();
  return out;
}

}  // namespace starling::dht
