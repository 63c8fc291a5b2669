// One BEP 19 web seed: an HTTP server holding the torrent's files, used as a source beside the
// peers. It takes blocks from the same PiecePicker as a PeerConnection (as a peer that has every
// piece), groups them into byte ranges (a run of blocks of one piece, split per file as
// webseed::map_run says), sends them as pipelined range requests on one persistent connection
// (depth from webseed::ServerPolicy), and hands each block to the Torrent as soon as its bytes
// are in, into the same disk and hash path as peers' blocks. End game: when every block still
// coming from this server has arrived from elsewhere, the connection is closed and reopened
// rather than drained. Failures back the server off; repeated (or permanent) ones drop it.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/bitfield.hpp"
#include "core/piece_geometry.hpp"
#include "policy/piece_picker.hpp"
#include "webseed/reply_reader.hpp"
#include "webseed/server_policy.hpp"
#include "webseed/web_seed_url.hpp"

namespace starling::session {

class Torrent;
using Clock = std::chrono::steady_clock;

struct WebSeedStatus {
  std::string url;
  std::int64_t downloaded = 0;  // payload bytes received and handed on
  int blocks = 0;               // blocks handed on (first copy of each)
  int failures = 0;
  double rate = 0;    // bytes per second, as measured for pipelining
  std::string state;  // "connecting", "active", "idle", "backing off", "dropped: ..."
};

class WebSeedConnection : public std::enable_shared_from_this<WebSeedConnection> {
 public:
  WebSeedConnection(Torrent& torrent, policy::PeerKey key, webseed::HttpUrl url);
  ~WebSeedConnection();
  WebSeedConnection(const WebSeedConnection&) = delete;
  WebSeedConnection& operator=(const WebSeedConnection&) = delete;

  void start() { request_more(); }
  // Drops the server for good; `reason` is logged. Safe to call more than once.
  void close(const std::string& reason);
  bool closed() const { return closed_; }
  policy::PeerKey key() const { return key_; }
  // Names this source for SmartBan and the logs.
  const std::string& name() const { return name_; }
  WebSeedStatus status() const;

  // From the torrent.
  void request_more();
  void cancel_block(BlockRef block);  // end game: it arrived from another source
  void tick(Clock::time_point now);

 private:
  // A run of blocks of one piece, fetched with one request per file it touches.
  struct Fetch {
    PieceIndex piece;
    int first_block = 0;
    int blocks = 0;
    std::int64_t length = 0;
    std::shared_ptr<char[]> buffer;
    std::vector<webseed::FileRange> parts;
    std::int64_t filled = 0;  // bytes in from the start of the run
    int delivered = 0;        // blocks handed on (or skipped) from the start
  };
  struct Request {
    std::shared_ptr<Fetch> fetch;
    std::size_t part = 0;
    webseed::HttpUrl url;
    Clock::time_point sent{};
    bool idle_when_sent = false;
    bool got_first_byte = false;
    std::int64_t received = 0;
    int redirects = 0;
  };

  void connect();
  void on_connected();
  void send_queued();
  void flush();
  void read();
  void on_read(std::size_t n);
  Status handle_header(Request& request);
  void on_body(Request& request, std::string_view bytes);
  void on_request_done();
  void skip_padding(Fetch& fetch, std::size_t from_part);
  void deliver(Fetch& fetch);
  std::size_t read_allowance();
  // Gives every block not yet in back to the picker and forgets the requests.
  void abort_all();
  void close_socket();
  // The connection failed; `permanent`: the data is not there at all.
  void fail(const std::string& reason, bool permanent);
  // Closes the connection without blame and gives back what it had (end game leftovers), then
  // opens a new one if there is work.
  void restart(const std::string& why);
  // The same requests on a new connection (the server closed this one between replies, or a
  // redirect moved a file): what a fetch already has is kept.
  void resend_elsewhere(const std::string& why);
  webseed::HttpUrl url_for(FileIndex file) const;
  void log(const std::string& line) const;

  Torrent& torrent_;
  policy::PeerKey key_;
  webseed::HttpUrl seed_;
  std::string name_;
  Bitfield all_pieces_;
  webseed::ServerPolicy policy_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer read_timer_;  // waits for download tokens
  std::string host_;                      // what the socket is connected (or connecting) to
  std::uint16_t port_ = 0;
  enum class State { idle, connecting, connected, backing_off };
  State state_ = State::idle;
  bool closed_ = false;
  std::string close_reason_;
  Clock::time_point connect_started_{};
  // Bumped on every socket close: completions of an older socket see a different value.
  std::uint64_t generation_ = 0;

  std::deque<Request> unsent_;    // picked, not yet written
  std::deque<Request> requests_;  // written, answers in this order
  std::map<FileIndex, webseed::HttpUrl> redirected_;
  webseed::ReplyReader reader_;
  std::array<char, std::size_t{64} * 1024> read_buffer_{};
  bool read_in_flight_ = false;
  std::string outbox_;
  std::string writing_;
  bool write_in_flight_ = false;
  std::int64_t download_credit_ = 0;

  std::int64_t downloaded_ = 0;
  int blocks_ = 0;
};

}  // namespace starling::session
