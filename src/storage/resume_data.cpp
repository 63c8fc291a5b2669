#include "storage/resume_data.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace starling {
namespace {

constexpr std::int64_t kFormatVersion = 1;
constexpr std::size_t kMaxResumeBytes = 64 << 20;

Error bad_resume(std::string what, std::size_t offset = Error::no_offset) {
  return Error(Errc::metainfo_bad_field, "resume data: " + std::move(what), offset);
}

Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(std::error_code(errno, std::generic_category()), "");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

}  // namespace

std::vector<FileStamp> stamp_files(const FileLayout& layout,
                                   const std::filesystem::path& download_dir) {
  std::vector<FileStamp> stamps;
  stamps.reserve(layout.files().size());
  for (std::size_t i = 0; i < layout.files().size(); ++i) {
    FileStamp stamp;
    struct stat st {};
    const auto path = layout.file_path(download_dir, FileIndex(static_cast<std::int32_t>(i)));
    if (!layout.files()[i].pad && ::stat(path.c_str(), &st) == 0) {
      stamp.size = st.st_size;
      stamp.mtime_ns = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    stamps.push_back(stamp);
  }
  return stamps;
}

Bitfield trusted_pieces(const ResumeData& resume, const FileLayout& layout,
                        const std::vector<FileStamp>& now) {
  Bitfield trusted = resume.have;
  if (now.size() != resume.files.size()) return Bitfield(trusted.size());
  for (std::size_t i = 0; i < now.size(); ++i) {
    const FileEntry& f = layout.files()[i];
    if (f.pad || f.size == 0 || now[i] == resume.files[i]) continue;
    auto [first, last] = layout.file_pieces(FileIndex(static_cast<std::int32_t>(i)));
    for (auto p = first.value(); p <= last.value(); ++p) trusted.clear(static_cast<std::size_t>(p));
  }
  return trusted;
}

std::string encode_resume(const ResumeData& resume) {
  bencode::List files;
  for (const auto& f : resume.files) files.emplace_back(bencode::List{f.size, f.mtime_ns});
  bencode::Dict root{{"file stamps", std::move(files)},
                     {"have", std::string(resume.have.bytes())},
                     {"info hash", std::string(resume.info_hash.view())},
                     {"pieces", static_cast<std::int64_t>(resume.have.size())},
                     {"version", kFormatVersion}};
  return bencode::encode(root);
}

Expected<ResumeData> parse_resume(std::string_view bytes, const Sha1Digest& info_hash,
                                  const FileLayout& layout) {
  auto doc = bencode::decode(bytes);
  if (!doc) return doc.error();
  const bencode::Node root = doc->root();
  if (!root.is_dict()) return bad_resume("not a dictionary", 0);
  if (root.find_int("version") != kFormatVersion) return bad_resume("unknown version");
  auto hash = root.find_string("info hash");
  if (!hash || Sha1Digest::from_bytes(*hash) != info_hash) {
    return bad_resume("written for another torrent");
  }
  ResumeData resume;
  resume.info_hash = info_hash;
  auto pieces = root.find_int("pieces");
  auto have = root.find_string("have");
  if (!pieces || *pieces != layout.num_pieces() || !have) return bad_resume("piece count differs");
  auto bitfield = Bitfield::from_bytes(*have, static_cast<std::size_t>(layout.num_pieces()));
  if (!bitfield) return bad_resume("malformed 'have' bitfield");
  resume.have = std::move(*bitfield);
  auto files = root.find_list("file stamps");
  if (!files || files->size() != layout.files().size()) return bad_resume("file count differs");
  for (const bencode::Node& f : files->elements()) {
    if (!f.is_list() || f.size() != 2 || !f.at(0).is_int() || !f.at(1).is_int()) {
      return bad_resume("malformed file stamp", f.offset());
    }
    resume.files.push_back(FileStamp{f.at(0).as_int(), f.at(1).as_int()});
  }
  return resume;
}

Status save_resume(const std::filesystem::path& file, const ResumeData& resume) {
  const std::filesystem::path temp = file.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error(std::error_code(errno, std::generic_category()), temp.string());
  Status written = write_all(fd, encode_resume(resume));
  if (written && ::fsync(fd) != 0) {
    written = Error(std::error_code(errno, std::generic_category()), temp.string());
  }
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return Error(written.error().code, temp.string());
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Error(std::error_code(err, std::generic_category()), file.string());
  }
  return ok();
}

Expected<ResumeData> load_resume(const std::filesystem::path& file, const Sha1Digest& info_hash,
                                 const FileLayout& layout) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return Error(ec, file.string());
  if (size > kMaxResumeBytes) return bad_resume("file too large");
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_resume(bytes, info_hash, layout);
}

}  // namespace starling
