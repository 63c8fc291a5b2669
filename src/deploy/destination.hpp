// Where an agent may write: a job's destination is a relative path that must stay below the
// agent's --root, however it is spelled and whatever symlinks already exist on the way.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/expected.hpp"

namespace starling::deploy {

// Checks the spelling (relative, no empty, "." or ".." components, no NUL or backslash) and
// then the real path: the existing part of root/relpath is resolved (symlinks followed) and
// must still be inside root's own resolved path. Returns that resolved path. `root` must exist.
// What is not yet on disk is created later by the agent, under a checked parent.
Expected<std::filesystem::path> resolve_destination(const std::filesystem::path& root,
                                                    std::string_view relpath);

// True when `inner` (already resolved) is `outer` or lies below it, component by component.
bool path_within(const std::filesystem::path& outer, const std::filesystem::path& inner);

}  // namespace starling::deploy
