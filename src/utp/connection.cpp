#include "utp/connection.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <string>

#include "utp/error.hpp"
#include "utp/sequence.hpp"

namespace starling::utp {
namespace {

// The largest UDP payload over IPv4 (65535 - 20 - 8).
constexpr std::size_t kMaxUdpPayload = 65507;
// Room for a header and the largest SACK we write, whatever the settings say.
constexpr std::size_t kMinPacketSize = 128;

// BEP 29 timestamps: microseconds on the sender's clock, truncated to 32 bits. Only differences
// between them matter, so the steady clock's epoch does.
std::uint32_t micros(TimePoint now) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
}

}  // namespace

Connection::Connection(CongestionControl& cc, const ConnectionSettings& settings)
    : cc_(&cc),
      settings_(settings),
      send_buffer_(settings.send_buffer_bytes),
      sent_(settings.max_packets_in_flight),
      rto_(settings.initial_rto),
      receive_buffer_(settings.receive_buffer_bytes),
      reorder_(std::min<std::size_t>(settings.max_reorder_packets, 16384),
               settings.receive_buffer_bytes),
      mtu_floor_(std::clamp(settings.min_packet_size, kMinPacketSize, kMaxUdpPayload)),
      mtu_ceiling_(mtu_floor_) {
  cc_->set_packet_size(static_cast<std::uint32_t>(mtu_floor_ - kHeaderSize));
}

Connection Connection::outgoing(CongestionControl& cc, std::uint16_t recv_id,
                                std::uint16_t initial_seq, const ConnectionSettings& settings) {
  Connection conn(cc, settings);
  conn.recv_id_ = recv_id;
  conn.send_id_ = static_cast<std::uint16_t>(recv_id + 1);
  conn.seq_nr_ = initial_seq;
  conn.isn_ = initial_seq;
  conn.state_ = ConnectionState::syn_sent;
  return conn;
}

Expected<Connection> Connection::incoming(TimePoint now, const PacketView& syn,
                                          CongestionControl& cc, std::uint16_t initial_seq,
                                          const ConnectionSettings& settings) {
  if (syn.header.type != PacketType::syn) {
    return make_error(Errc::bad_syn, "type " + std::to_string(static_cast<int>(syn.header.type)));
  }
  Connection conn(cc, settings);
  conn.send_id_ = syn.header.connection_id;
  conn.recv_id_ = static_cast<std::uint16_t>(syn.header.connection_id + 1);
  conn.seq_nr_ = initial_seq;
  conn.isn_ = initial_seq;
  conn.ack_nr_ = syn.header.seq_nr;
  conn.peer_wnd_ = syn.header.wnd_size;
  conn.reply_micro_ = micros(now) - syn.header.timestamp_us;
  conn.state_ = ConnectionState::syn_received;
  conn.last_send_ = now;
  conn.owe_ack(now, true);
  // Until the initiator is heard from, the timer repeats our answer and finally gives up.
  conn.rto_deadline_ = now + conn.rto_;
  return conn;
}

void Connection::connect(TimePoint now) {
  if (state_ != ConnectionState::syn_sent || !sent_.empty()) return;
  // The SYN waits in the sent ring like any packet, so the resend path transmits and retries it.
  SentPacket syn;
  syn.type = PacketType::syn;
  syn.lost = true;
  sent_.push(seq_nr_, syn);
  ++lost_count_;
  resend_cursor_ = seq_nr_;
  seq_nr_ = seq_add(seq_nr_, 1);
  last_send_ = now;
}

// ---- receiving ----------------------------------------------------------------------------------

void Connection::handle_packet(TimePoint now, const PacketView& packet) {
  const PacketHeader& h = packet.header;
  if (state_ == ConnectionState::error) return;
  if (state_ == ConnectionState::closed) {
    // Our ACK of the peer's FIN may have been lost: keep answering its retransmissions.
    if (h.type == PacketType::fin && peer_fin_done_ && h.seq_nr == peer_fin_seq_) {
      owe_ack(now, true);
    }
    return;
  }
  if (h.type == PacketType::syn) {
    // A retransmitted SYN: our STATE answering it was lost.
    if (state_ == ConnectionState::syn_received && h.connection_id == send_id_) {
      owe_ack(now, true);
    }
    return;
  }
  if (h.type == PacketType::reset) {
    if (h.connection_id == recv_id_ || h.connection_id == send_id_) {
      fail(Errc::connection_reset, "");
    }
    return;
  }
  if (h.connection_id != recv_id_) return;
  reply_micro_ = micros(now) - h.timestamp_us;
  last_receive_ = now;

  if (state_ == ConnectionState::syn_sent) {
    // Only an answer acknowledging our SYN opens the connection; its seq_nr is the peer's first.
    if (sent_.empty() || h.ack_nr != sent_.first()) return;
    state_ = ConnectionState::connected;
    ack_nr_ = seq_add(h.seq_nr, -1);
  } else if (state_ == ConnectionState::syn_received) {
    state_ = ConnectionState::connected;  // the initiator has heard us
    timeouts_in_row_ = 0;
    if (sent_.empty()) rto_deadline_.reset();
  }

  process_ack(now, packet);
  if (state_ == ConnectionState::error) return;
  if (h.type == PacketType::data || h.type == PacketType::fin) receive_payload(now, packet);
  check_closed(now);
}

void Connection::process_ack(TimePoint now, const PacketView& packet) {
  const PacketHeader& h = packet.header;
  peer_wnd_ = h.wnd_size;
  if (sent_.empty()) {
    duplicate_acks_ = 0;
    return;
  }
  const std::uint16_t una = sent_.first();
  const std::uint16_t newest = seq_add(seq_nr_, -1);
  // An ACK from before our oldest outstanding packet is stale; one past our newest is bogus.
  if (!seq_less_equal(seq_add(una, -1), h.ack_nr) || !seq_less_equal(h.ack_nr, newest)) return;

  const std::uint32_t in_flight_before = in_flight_;
  std::uint32_t acked_bytes = 0;
  bool progress = false;
  while (!sent_.empty() && seq_less_equal(sent_.first(), h.ack_nr)) {
    SentPacket& p = sent_.front();
    if (!p.acked) acknowledge(now, sent_.first(), p, acked_bytes);
    sent_.pop_front();
    progress = true;
  }
  for (std::size_t i = 0; i < packet.sack.size() * 8; ++i) {
    if (!packet.sacked(i)) continue;
    const std::uint16_t seq = seq_add(h.ack_nr, static_cast<int>(2 + i));
    if (!sent_.contains(seq)) continue;
    SentPacket& p = sent_.at(seq);
    if (!p.acked) acknowledge(now, seq, p, acked_bytes);
  }
  // Bytes before the oldest packet still outstanding are acknowledged for good.
  const std::uint64_t keep_from = sent_.empty() ? sent_offset_ : sent_.front().stream_offset;
  send_buffer_.pop(static_cast<std::size_t>(keep_from - send_buffer_.begin_offset()));

  if (progress) {
    duplicate_acks_ = 0;
    // Progress undoes the exponential back-off.
    rto_ = have_rtt_ ? std::max(rtt_ + 4 * rtt_var_, settings_.min_rto) : settings_.initial_rto;
  } else if (h.type == PacketType::state && packet.payload.empty() &&
             h.ack_nr == seq_add(una, -1)) {
    ++duplicate_acks_;
  }
  if (progress || acked_bytes > 0) {
    timeouts_in_row_ = 0;
    rto_deadline_.reset();
    if (!sent_.empty()) rto_deadline_ = now + rto_;
  }
  if (acked_bytes > 0) {
    cc_->on_ack(AckEvent{.now = now,
                         .bytes_acked = acked_bytes,
                         .bytes_in_flight = in_flight_before,
                         .delay_sample_us = h.timestamp_difference_us,
                         .rtt = rtt_});
  }
  detect_losses(packet, now);
}

void Connection::acknowledge(TimePoint now, std::uint16_t seq, SentPacket& p,
                             std::uint32_t& bytes) {
  p.acked = true;
  bytes += p.payload;
  if (p.lost) {
    p.lost = false;
    --lost_count_;
  } else {
    in_flight_ -= p.payload;
  }
  // Karn: a retransmitted packet's ACK could answer either copy, so it gives no RTT sample.
  if (p.transmissions == 1) update_rtt(now - p.last_sent);
  if (probe_in_flight_ && seq == probe_seq_) {
    probe_in_flight_ = false;
    if (p.transmissions == 1) set_mtu_floor(probe_size_);
  }
  if (p.type == PacketType::fin) fin_acked_ = true;
}

void Connection::detect_losses(const PacketView& packet, TimePoint now) {
  if (sent_.empty()) return;
  bool congestion = false;
  auto lose = [&](std::uint16_t seq, SentPacket& p) {
    if (p.acked || p.lost || p.fast_resent || p.transmissions == 0) return;
    p.fast_resent = true;
    ++stats_.fast_retransmissions;
    if (probe_in_flight_ && seq == probe_seq_) {
      mtu_probe_lost();  // too big for the path, not a sign of congestion
    } else if (p.window_probe) {
      // Dropped by a full receive buffer, not by the network.
    } else {
      congestion = true;
    }
    mark_lost(seq, p);
  };
  const int threshold = settings_.duplicate_ack_threshold;
  if (duplicate_acks_ >= threshold) lose(sent_.first(), sent_.front());
  if (packet.has_sack()) {
    // Walk down from the newest SACKed packet: a hole with `threshold` SACKed packets above it
    // is lost. ack_nr + 1 is the hole the ACK itself points at.
    const std::uint16_t ack_nr = packet.header.ack_nr;
    int above = 0;
    for (std::size_t i = packet.sack.size() * 8; i-- > 0;) {
      const std::uint16_t seq = seq_add(ack_nr, static_cast<int>(2 + i));
      if (!sent_.contains(seq)) continue;
      if (packet.sacked(i)) {
        ++above;
      } else if (above >= threshold) {
        lose(seq, sent_.at(seq));
      }
    }
    const std::uint16_t hole = seq_add(ack_nr, 1);
    if (above >= threshold && sent_.contains(hole)) lose(hole, sent_.at(hole));
  }
  if (congestion) cc_->on_loss(now, rtt_);
}

void Connection::mark_lost(std::uint16_t seq, SentPacket& p) {
  p.lost = true;
  in_flight_ -= p.payload;
  ++lost_count_;
  if (!sent_.contains(resend_cursor_) || seq_less(seq, resend_cursor_)) resend_cursor_ = seq;
}

void Connection::receive_payload(TimePoint now, const PacketView& packet) {
  const PacketHeader& h = packet.header;
  const bool fin = h.type == PacketType::fin;
  if (peer_fin_received_ &&
      (seq_less(peer_fin_seq_, h.seq_nr) || (fin && h.seq_nr != peer_fin_seq_))) {
    return;  // nothing exists after the peer's FIN
  }
  const std::uint16_t expected = seq_add(ack_nr_, 1);
  if (seq_less(h.seq_nr, expected)) {
    // Already have it: our ACK was probably lost, so repeat it.
    ++stats_.duplicate_packets;
    owe_ack(now, true);
    return;
  }
  const std::size_t ahead = seq_distance(expected, h.seq_nr);
  if (ahead >= reorder_.slots()) return;  // too far ahead to hold; the peer will resend it
  const std::size_t room = receive_buffer_.free() - reorder_.bytes();
  if (ahead > 0 && reorder_.contains(h.seq_nr)) {
    ++stats_.duplicate_packets;
    owe_ack(now, true);
    return;
  }
  if (packet.payload.size() > room) {
    owe_ack(now, true);  // the peer overran our window: drop, and tell it the window again
    return;
  }
  if (fin) {
    peer_fin_received_ = true;
    peer_fin_seq_ = h.seq_nr;
  }
  if (ahead > 0) {
    reorder_.insert(h.seq_nr, packet.payload, fin);
    owe_ack(now, true);
    return;
  }
  deliver_in_order(packet.payload, fin);
  while (!peer_fin_done_ && reorder_.contains(seq_add(ack_nr_, 1))) {
    const std::uint16_t seq = seq_add(ack_nr_, 1);
    const ReorderBuffer::Entry entry = reorder_.get(seq);
    const bool entry_fin = entry.fin;
    receive_buffer_.push(entry.payload);
    ack_nr_ = seq;
    reorder_.erase(seq);
    if (entry_fin) peer_fin_done_ = true;
  }
  owe_ack(now, !reorder_.empty() || peer_fin_done_);
}

void Connection::deliver_in_order(std::span<const std::byte> payload, bool fin) {
  receive_buffer_.push(payload);
  ack_nr_ = seq_add(ack_nr_, 1);
  if (fin) peer_fin_done_ = true;
}

void Connection::owe_ack(TimePoint now, bool at_once) {
  ++packets_unacked_;
  TimePoint due = now;
  if (!at_once && settings_.ack_delay.count() > 0 &&
      packets_unacked_ < settings_.ack_every_packets) {
    due = now + settings_.ack_delay;
  }
  if (!ack_due_ || due < *ack_due_) ack_due_ = due;
}

void Connection::update_rtt(Duration sample) {
  if (!have_rtt_) {
    rtt_ = sample;
    rtt_var_ = sample / 2;
    have_rtt_ = true;
  } else {
    const Duration delta = rtt_ - sample;
    rtt_var_ += ((delta < Duration::zero() ? -delta : delta) - rtt_var_) / 4;
    rtt_ += (sample - rtt_) / 8;
  }
}

void Connection::fail(Errc why, std::string detail) {
  state_ = ConnectionState::error;
  error_ = make_error(why, std::move(detail));
  rto_deadline_.reset();
  ack_due_.reset();
  linger_deadline_.reset();
}

void Connection::check_closed(TimePoint now) {
  if (state_ != ConnectionState::fin_sent || !fin_acked_) return;
  if (peer_fin_done_) {
    state_ = ConnectionState::closed;
    rto_deadline_.reset();
    linger_deadline_.reset();
  } else if (!linger_deadline_) {
    linger_deadline_ = now + settings_.fin_linger;
  }
}

// ---- application side ---------------------------------------------------------------------------

std::size_t Connection::write(std::span<const std::byte> bytes) {
  if (close_requested_ || state_ == ConnectionState::error || state_ == ConnectionState::closed) {
    return 0;
  }
  return send_buffer_.push(bytes);
}

std::size_t Connection::write(std::string_view bytes) {
  return write(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

std::size_t Connection::read(std::span<std::byte> out) {
  const std::size_t n = std::min(out.size(), receive_buffer_.size());
  receive_buffer_.copy_out(receive_buffer_.begin_offset(), out.first(n));
  consume(n);
  return n;
}

void Connection::consume(std::size_t bytes) {
  receive_buffer_.pop(std::min(bytes, receive_buffer_.size()));
  // The peer stops sending when our window closes; reopening it must be announced, or both
  // sides wait (until the keep-alive).
  if (window_was_closed_ && receive_window() >= settings_.min_packet_size) {
    window_was_closed_ = false;
    if (state_ == ConnectionState::connected || state_ == ConnectionState::fin_sent) {
      ack_due_ = TimePoint::min();
    }
  }
}

void Connection::close() {
  close_requested_ = true;
}

void Connection::abort() {
  if (state_ == ConnectionState::error || state_ == ConnectionState::closed) return;
  reset_pending_ = true;
  fail(Errc::aborted, "");
}

void Connection::fail_unreachable() {
  if (state_ == ConnectionState::error || state_ == ConnectionState::closed) return;
  fail(Errc::unreachable, "");
}

void Connection::set_max_packet_size(std::size_t bytes) {
  mtu_ceiling_ = std::clamp(bytes, kMinPacketSize, kMaxUdpPayload);
  if (mtu_floor_ > mtu_ceiling_) set_mtu_floor(mtu_ceiling_);
  if (probe_in_flight_ && probe_size_ > mtu_ceiling_) probe_in_flight_ = false;
}

std::uint32_t Connection::receive_window() const {
  const std::size_t free = receive_buffer_.free() - reorder_.bytes();
  return static_cast<std::uint32_t>(
      std::min<std::size_t>(free, std::numeric_limits<std::uint32_t>::max()));
}

// ---- timers -------------------------------------------------------------------------------------

std::optional<TimePoint> Connection::next_deadline() const {
  if (state_ == ConnectionState::error) return std::nullopt;
  std::optional<TimePoint> next;
  auto take = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  if (ack_due_) take(*ack_due_);
  if (state_ == ConnectionState::closed) return next;
  if (rto_deadline_) take(*rto_deadline_);
  if (linger_deadline_) take(*linger_deadline_);
  if (state_ == ConnectionState::connected || state_ == ConnectionState::fin_sent) {
    take(last_send_ + settings_.keepalive_interval);
    // Zero-window probe: the peer's window is shut and nothing is in flight to reopen it.
    if (sent_.empty() && send_buffer_.end_offset() > sent_offset_ && peer_wnd_ == 0) {
      take(last_send_ + rto_);
    }
  }
  return next;
}

void Connection::handle_timeout(TimePoint now) {
  if (state_ == ConnectionState::error || state_ == ConnectionState::closed) return;
  if (linger_deadline_ && now >= *linger_deadline_) {
    state_ = ConnectionState::closed;
    linger_deadline_.reset();
    rto_deadline_.reset();
    return;
  }
  const bool open = state_ == ConnectionState::connected || state_ == ConnectionState::fin_sent;
  if (open && now >= last_send_ + settings_.keepalive_interval) owe_ack(now, true);
  if (open && sent_.empty() && send_buffer_.end_offset() > sent_offset_ && peer_wnd_ == 0 &&
      now >= last_send_ + rto_) {
    // Zero-window probe: one byte. If the window is still shut the peer drops it and answers
    // with its window; if the answer reopening it was lost, this gets things going again.
    peer_wnd_ = 1;
  }
  if (!rto_deadline_ || now < *rto_deadline_) return;
  rto_deadline_.reset();
  if (state_ == ConnectionState::syn_received && sent_.empty()) {
    if (++timeouts_in_row_ > settings_.max_syn_timeouts) {
      fail(Errc::timed_out, "the initiator went silent after its SYN");
      return;
    }
    ++stats_.timeouts;
    owe_ack(now, true);
    rto_ = std::min(rto_ * 2, settings_.max_rto);
    rto_deadline_ = now + rto_;
    return;
  }
  if (sent_.empty()) return;

  if (state_ == ConnectionState::syn_sent) {
    if (++timeouts_in_row_ > settings_.max_syn_timeouts) {
      fail(Errc::timed_out, "no answer to SYN");
      return;
    }
    ++stats_.timeouts;
    if (!sent_.front().lost) mark_lost(sent_.first(), sent_.front());
    rto_ = std::min(rto_ * 2, settings_.max_rto);
    rto_deadline_ = now + rto_;
    return;
  }
  SentPacket& front = sent_.front();
  if (probe_in_flight_ && probe_seq_ == sent_.first() && !front.lost) {
    // Only the probe is missing: the path does not take that size. No back-off, no congestion.
    mtu_probe_lost();
    mark_lost(sent_.first(), front);
    rto_deadline_ = now + rto_;
    return;
  }
  if (front.window_probe && sent_.size() == 1) {
    // A probe into a small or shut window went unanswered: the peer's buffer is full, which is
    // not congestion. Back off; only count it towards failure when the peer is silent too.
    if (!front.lost) mark_lost(sent_.first(), front);
    front.fast_resent = false;  // once the window opens, SACKs may recover it again
    peer_wnd_ = std::max(peer_wnd_, front.payload);  // lets the probe go out again
    if (last_receive_ < front.last_sent && ++timeouts_in_row_ > settings_.max_timeouts) {
      fail(Errc::timed_out, "no answer to window probes");
      return;
    }
    rto_ = std::min(rto_ * 2, settings_.max_rto);
    rto_deadline_ = now + rto_;
    return;
  }
  if (++timeouts_in_row_ > settings_.max_timeouts) {
    fail(Errc::timed_out, std::to_string(settings_.max_timeouts) + " retransmission timeouts");
    return;
  }
  ++stats_.timeouts;
  cc_->on_timeout(now);
  for (std::size_t i = 0; i < sent_.size(); ++i) {
    const std::uint16_t seq = seq_add(sent_.first(), static_cast<int>(i));
    SentPacket& p = sent_.at(seq);
    if (p.acked || p.lost) continue;
    if (probe_in_flight_ && seq == probe_seq_) mtu_probe_lost();
    mark_lost(seq, p);
  }
  duplicate_acks_ = 0;
  rto_ = std::min(rto_ * 2, settings_.max_rto);
  rto_deadline_ = now + rto_;
}

// ---- sending ------------------------------------------------------------------------------------

std::optional<std::size_t> Connection::poll_transmit(TimePoint now, std::span<std::byte> buffer) {
  last_was_probe_ = false;
  if (buffer.size() < encoded_header_size(kMaxSackBytes)) return std::nullopt;
  if (reset_pending_) {
    reset_pending_ = false;
    return emit(now, buffer, PacketType::reset, seq_nr_);
  }
  if (state_ == ConnectionState::error) return std::nullopt;
  const bool ack_owed = ack_due_ && now >= *ack_due_ && state_ != ConnectionState::syn_sent;
  if (state_ == ConnectionState::closed) {
    if (ack_owed) return send_ack(now, buffer);
    return std::nullopt;
  }
  // A SACK only travels on STATE packets, so with a hole it goes first.
  if (ack_owed && !reorder_.empty()) return send_ack(now, buffer);
  if (auto n = resend_lost(now, buffer)) return n;
  if (state_ == ConnectionState::syn_sent) return std::nullopt;
  if (auto n = send_new_data(now, buffer)) return n;
  if (close_requested_ && !fin_sent_ && state_ == ConnectionState::connected &&
      sent_offset_ == send_buffer_.end_offset() && !sent_.full()) {
    SentPacket fin;
    fin.type = PacketType::fin;
    fin.stream_offset = sent_offset_;
    const std::uint16_t seq = seq_nr_;
    seq_nr_ = seq_add(seq_nr_, 1);
    fin_sent_ = true;
    state_ = ConnectionState::fin_sent;
    return send_packet(now, buffer, seq, sent_.push(seq, fin));
  }
  if (ack_owed) return send_ack(now, buffer);
  return std::nullopt;
}

std::size_t Connection::emit(TimePoint now, std::span<std::byte> buffer, PacketType type,
                             std::uint16_t seq, std::span<const std::byte> sack) {
  PacketHeader h;
  h.type = type;
  h.connection_id = type == PacketType::syn ? recv_id_ : send_id_;
  h.timestamp_us = micros(now);
  h.timestamp_difference_us = reply_micro_;
  h.wnd_size = receive_window();
  h.seq_nr = seq;
  h.ack_nr = type == PacketType::syn ? 0 : ack_nr_;
  const std::size_t n = encode_header(buffer, h, sack);
  last_send_ = now;
  ++stats_.packets_sent;
  if (type != PacketType::syn) {
    // Every packet carries ack_nr, so whatever ACK was owed has now been sent.
    ack_due_.reset();
    packets_unacked_ = 0;
    window_was_closed_ = h.wnd_size < settings_.min_packet_size;
  }
  return n;
}

std::optional<std::size_t> Connection::send_ack(TimePoint now, std::span<std::byte> buffer) {
  std::array<std::byte, kMaxSackBytes> sack{};
  const std::size_t length = reorder_.write_sack(ack_nr_, sack);
  // Before the initiator has heard us, every STATE names our first seq_nr (see the header).
  // After our FIN, every STATE names the FIN's seq_nr (the last one used): a FIN numbers nothing
  // after it, and libtorrent drops a STATE numbered past the FIN it received.
  std::uint16_t seq = state_ == ConnectionState::syn_received ? isn_ : seq_nr_;
  if (fin_sent_) seq = static_cast<std::uint16_t>(seq_nr_ - 1);
  return emit(now, buffer, PacketType::state, seq, std::span(sack).first(length));
}

std::uint32_t Connection::window() const {
  return std::min(cc_->window_bytes(), peer_wnd_);
}

bool Connection::fits_window(std::uint32_t payload) const {
  if (payload == 0) return true;
  if (std::uint64_t{in_flight_} + payload <= window()) return true;
  // An empty pipe always takes one packet, even when the congestion window is smaller than a
  // packet; the peer's window is still respected.
  return in_flight_ == 0 && payload <= peer_wnd_;
}

std::optional<std::size_t> Connection::resend_lost(TimePoint now, std::span<std::byte> buffer) {
  if (lost_count_ == 0) return std::nullopt;
  if (!sent_.contains(resend_cursor_)) resend_cursor_ = sent_.first();
  for (; sent_.contains(resend_cursor_); resend_cursor_ = seq_add(resend_cursor_, 1)) {
    SentPacket& p = sent_.at(resend_cursor_);
    if (!p.lost) continue;
    if (!fits_window(p.payload) || kHeaderSize + p.payload > buffer.size()) return std::nullopt;
    const std::uint16_t seq = resend_cursor_;
    resend_cursor_ = seq_add(resend_cursor_, 1);
    return send_packet(now, buffer, seq, p);
  }
  return std::nullopt;
}

std::optional<std::size_t> Connection::send_new_data(TimePoint now, std::span<std::byte> buffer) {
  if (state_ == ConnectionState::syn_received && seq_nr_ != isn_) return std::nullopt;
  const std::uint64_t unsent = send_buffer_.end_offset() - sent_offset_;
  if (unsent == 0 || sent_.full()) return std::nullopt;
  std::size_t payload =
      std::min<std::uint64_t>(unsent, std::min(mtu_floor_, buffer.size()) - kHeaderSize);
  bool probe = false;
  bool window_probe = false;
  const std::size_t probe_size = next_probe_size();
  if (probe_size != 0 && probe_size <= buffer.size() && unsent >= probe_size - kHeaderSize &&
      probe_size - kHeaderSize <= window()) {
    // Hold back ordinary packets until the probe fits; probing is rare and short-lived.
    if (!fits_window(static_cast<std::uint32_t>(probe_size - kHeaderSize))) return std::nullopt;
    probe = true;
    payload = probe_size - kHeaderSize;
  } else if (!fits_window(static_cast<std::uint32_t>(payload))) {
    if (in_flight_ != 0 || peer_wnd_ == 0) return std::nullopt;
    payload = peer_wnd_;  // the pipe is empty and the peer takes less than a packet
    window_probe = true;
  }
  SentPacket p;
  p.stream_offset = sent_offset_;
  p.payload = static_cast<std::uint32_t>(payload);
  p.mtu_probe = probe;
  p.window_probe = window_probe;
  const std::uint16_t seq = seq_nr_;
  seq_nr_ = seq_add(seq_nr_, 1);
  sent_offset_ += payload;
  if (probe) {
    probe_in_flight_ = true;
    probe_seq_ = seq;
    probe_size_ = probe_size;
    ++stats_.mtu_probes;
  }
  return send_packet(now, buffer, seq, sent_.push(seq, p));
}

std::size_t Connection::send_packet(TimePoint now, std::span<std::byte> buffer, std::uint16_t seq,
                                    SentPacket& p) {
  if (p.lost) {
    p.lost = false;
    --lost_count_;
  }
  const bool first_time = p.transmissions == 0;
  if (!first_time) ++stats_.retransmissions;
  ++p.transmissions;
  p.last_sent = now;
  in_flight_ += p.payload;
  const std::size_t n = emit(now, buffer, p.type, seq);
  send_buffer_.copy_out(p.stream_offset, buffer.subspan(n, p.payload));
  // Only the first copy of a probe goes with "don't fragment": a retransmission must get through.
  last_was_probe_ = p.mtu_probe && first_time;
  if (!rto_deadline_) rto_deadline_ = now + rto_;
  return n + p.payload;
}

// ---- path MTU -----------------------------------------------------------------------------------

std::size_t Connection::next_probe_size() const {
  if (probe_in_flight_ || mtu_floor_ >= mtu_ceiling_) return 0;
  return mtu_floor_ + (mtu_ceiling_ - mtu_floor_ + 1) / 2;
}

void Connection::mtu_probe_lost() {
  probe_in_flight_ = false;
  ++stats_.mtu_probes_lost;
  mtu_ceiling_ = std::max(mtu_floor_, probe_size_ - 1);
}

void Connection::set_mtu_floor(std::size_t bytes) {
  mtu_floor_ = bytes;
  cc_->set_packet_size(static_cast<std::uint32_t>(mtu_floor_ - kHeaderSize));
}

}  // namespace starling::utp
