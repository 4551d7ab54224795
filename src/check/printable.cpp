// Quoting received bytes in a reason.
#include "printable.hpp"

namespace lvsd::check {

std::string printable(std::string_view bytes, std::size_t max) {
  std::string out(bytes.substr(0, max));
  for (char& c : out) {
    if (c == '\t') c = ' ';
    else if (c < 0x20 || c > 0x7e) c = '?';  // char may be signed: bytes >= 0x80 are negative
  }
  return out;
}

}  // namespace lvsd::check
