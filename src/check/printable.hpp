// Bytes from a server or a script, made fit to stand in a result's reason.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lvsd::check {

// At most `max` bytes of `bytes`, with a tab as a space and every other byte outside
// printable ASCII as '?', so that a reason stays one readable line whatever it quotes.
std::string printable(std::string_view bytes, std::size_t max);

}  // namespace lvsd::check
