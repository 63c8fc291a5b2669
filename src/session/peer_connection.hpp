// One BitTorrent peer over a PeerStream (TCP or uTP): the handshake, the message stream (through
// the sans-IO wire::MessageDecoder), our requests to it (blocks from the picker, sized by a
// RequestPipeline) and its requests to us (blocks read on the disk pool, sent under a send-buffer
// high-water mark). Lives on the network thread; owned by its Torrent through a shared_ptr so
// pending socket and disk completions can tell it has gone.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bitfield.hpp"
#include "core/piece_geometry.hpp"
#include "policy/piece_picker.hpp"
#include "policy/request_pipeline.hpp"
#include "policy/super_seed.hpp"
#include "session/peer_stream.hpp"
#include "session/transfer_rates.hpp"
#include "wire/handshake.hpp"
#include "wire/message.hpp"
#include "wire/message_decoder.hpp"
#include "wire/ut_pex.hpp"

namespace starling::session {

class Torrent;
using Clock = std::chrono::steady_clock;

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
 public:
  // Outgoing: `stream` connects to `endpoint`. Incoming: `stream` is connected and
  // `their_handshake` (68 bytes) has been read by the session.
  PeerConnection(Torrent& torrent, policy::PeerKey key, std::unique_ptr<PeerStream> stream,
                 tcp::endpoint endpoint);
  PeerConnection(Torrent& torrent, policy::PeerKey key, std::unique_ptr<PeerStream> stream,
                 const wire::Handshake& their_handshake);
  ~PeerConnection();

  void start();
  // Closes the connection; `reason` is logged. Safe to call more than once.
  void close(const std::string& reason);
  bool closed() const { return closed_; }

  policy::PeerKey key() const { return key_; }
  const tcp::endpoint& endpoint() const { return endpoint_; }
  // The peer's address as text, made once: it names the sender of every block (SmartBan).
  const std::string& address() const { return address_; }
  bool outgoing() const { return outgoing_; }
  std::string_view transport() const { return stream_->transport(); }
  bool connected() const { return handshake_done_; }
  bool peer_interested() const { return peer_interested_; }
  bool am_choking() const { return am_choking_; }
  bool is_seed() const { return peer_is_seed_; }
  std::int64_t downloaded() const { return downloaded_; }  // payload bytes from this peer
  std::int64_t uploaded() const { return uploaded_; }
  // Over the last 20 s (what the choker ranks by).
  const TransferRates& rates() const { return rates_; }
  Clock::time_point connected_at() const { return connected_at_; }
  Clock::time_point last_block_at() const { return last_block_at_; }
  bool am_interested() const { return am_interested_; }
  // It has unchoked us at least once: it uploads to someone (a free rider never does).
  bool ever_unchoked_us() const { return ever_unchoked_us_; }
  // The peer id from its handshake; only once the handshake arrived.
  const std::array<std::uint8_t, 20>& their_peer_id() const { return their_handshake_->peer_id; }

  // From the torrent.
  void send_have(PieceIndex piece);
  // Initial seeding: announce the pieces policy::SuperSeed gives this peer now.
  void reveal_pieces();
  policy::SuperSeed* super_seed_in_effect();
  void set_choking(bool choke);
  void cancel_block(BlockRef block);       // end game: another peer delivered it
  void on_piece_passed(PieceIndex piece);  // we may no longer be interested
  void request_more();                     // the picker may have work for this peer
  void tick(Clock::time_point now);
  // BEP 11: tells the peer which peers we are connected to (by their listen addresses) when
  // its minute is up and something changed.
  void send_pex(const std::vector<tcp::endpoint>& connected, Clock::time_point now);
  // Where the peer accepts connections: the address we dialled, or its address with the port
  // from its extension handshake; nullopt for an incoming peer that did not say.
  std::optional<tcp::endpoint> listen_endpoint() const;

 private:
  // What both public constructors share.
  PeerConnection(Torrent& torrent, policy::PeerKey key, std::unique_ptr<PeerStream> stream,
                 bool outgoing);
  void connect();
  void send_handshake();
  void after_handshake();
  void read_handshake();
  void read_messages();
  bool handle(const wire::Message& message);
  void handle_bitfield(const Bitfield& bits, bool all);
  void handle_block(const wire::Piece& piece);
  bool receive_block(BlockRef block, std::int64_t bytes);
  void handle_request(const wire::Request& request);
  void handle_extended(const wire::Extended& extended);
  // BEP 9: a peer asks for a piece of the info dictionary.
  void handle_metadata_request(std::string_view payload);
  void handle_pex(std::string_view payload);
  void update_interest();
  void drop_requests();
  // Queues piece messages for requests, up to the send buffer's high-water mark: straight from
  // the page cache when it holds the block, else through a disk thread.
  void serve_uploads();
  bool send_cached_block(const wire::Request& request);
  // Rate limits: true when `bytes` may be sent now (taken from the upload bucket); else a timer
  // calls serve_uploads() again once they may.
  bool take_upload(std::int64_t bytes);
  // How many bytes the next socket read may take (0: a timer reads again later).
  std::size_t read_allowance();
  void count_sent_block(std::uint32_t length);
  void send(const wire::Message& message);
  void flush();

  Torrent& torrent_;
  policy::PeerKey key_;
  tcp::endpoint endpoint_;
  std::string address_;
  std::unique_ptr<PeerStream> stream_;
  bool outgoing_;
  bool closed_ = false;
  bool handshake_done_ = false;
  std::optional<wire::Handshake> their_handshake_;
  std::string handshake_buffer_;
  wire::MessageDecoder decoder_;

  // Their state as we see it, and ours.
  Bitfield peer_has_;
  bool super_seeding_ = false;  // this connection started under Torrent::super_seed()
  bool peer_is_seed_ = false;   // counted in the picker with add_seed
  bool availability_counted_ = false;
  bool peer_choking_ = true;
  bool ever_unchoked_us_ = false;
  bool peer_interested_ = false;
  bool am_choking_ = true;
  bool am_interested_ = false;
  int wanted_pieces_ = 0;  // pieces the peer has that we still want: interested while > 0
  bool supports_fast_ = false;
  bool supports_extensions_ = false;
  std::optional<std::uint8_t> their_ut_metadata_id_;  // BEP 9, from their extension handshake
  std::optional<std::uint8_t> their_ut_pex_id_;       // BEP 11
  std::uint16_t their_listen_port_ = 0;               // BEP 10 "p"
  bool dht_port_seen_ = false;                        // BEP 5 PORT handled
  wire::PexDiff pex_told_;
  Clock::time_point next_pex_at_{};
  std::optional<Clock::time_point> last_pex_received_;

  // Our requests to the peer.
  policy::RequestPipeline pipeline_;
  struct Outstanding {
    BlockRef block;
    Clock::time_point sent;
    bool in_run = false;  // asked for in one request with its neighbours (see request_more)
  };
  std::vector<Outstanding> requests_;
  // The peer is another starling: it takes one request for a run of consecutive blocks of a
  // piece (up to WireLimits::max_block_length) and answers it with one PIECE message.
  bool peer_takes_block_runs_ = false;

  // The peer's requests to us, oldest first, and how many are being read from disk.
  std::deque<wire::Request> upload_queue_;
  int disk_reads_ = 0;

  // Sending: messages collect in `outbox_` while `writing_` is on the wire.
  Outbox outbox_;
  Outbox writing_;
  std::vector<FileSlice> slices_;  // scratch for send_cached_block
  bool write_in_flight_ = false;

  Clock::time_point connected_at_;
  Clock::time_point last_received_;
  Clock::time_point last_sent_;
  Clock::time_point last_block_at_;  // the last block we asked for and got
  TransferRates rates_;
  boost::asio::steady_timer upload_timer_;    // waits for upload tokens
  boost::asio::steady_timer download_timer_;  // waits for download tokens
  bool upload_waiting_ = false;
  std::int64_t upload_credit_ = 0;    // granted upload bytes not yet spent on a block
  std::int64_t download_credit_ = 0;  // granted download bytes not yet read
  std::int64_t downloaded_ = 0;
  std::int64_t uploaded_ = 0;
};

}  // namespace starling::session
