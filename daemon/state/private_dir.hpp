// state/private_dir.hpp: creates the missing parent folders of a state file owner-only (0700); shared
// by the store and the instance lock. Internal to b24sync_state.
#pragma once

#include <filesystem>

namespace b24sync::state::detail {

/// Creates every missing ancestor folder of `file` with mode 0700 (less whatever the umask removes).
/// Existing folders are left as they are. Throws state_error naming the folder that could not be made.
void create_parent_dirs(const std::filesystem::path& file);

}  // namespace b24sync::state::detail
