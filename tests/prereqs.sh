#!/bin/sh
# `make test` runs this first: it checks what the build and the test suite need and, when
# something is missing, names each missing piece with the command that installs it — instead of
# a failure deep in a build or a test. Exit 0 when all is there, 1 otherwise.
#
#   tests/prereqs.sh [CARGO FEATURE ARGS…]
#
# The feature arguments are those `make test` passes to cargo (FEATURES=…): with
# `--features system-sqlite` (the packages' build) the system SQLite headers and libclang are
# needed too. PYTHON names the interpreter for the SDK suite (default python3).
set -u
cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-python3}
missing=0

# One line per missing piece: what, then how to install it on Debian/Ubuntu and Fedora/RHEL.
lack() {
    missing=$((missing + 1))
    printf 'missing: %s\n    Debian/Ubuntu: %s\n    Fedora/RHEL:   %s\n' "$1" "$2" "$3" >&2
}

# The toolchain version Cargo.toml asks for (rust-version).
want=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
if ! command -v cargo >/dev/null 2>&1 || ! command -v rustc >/dev/null 2>&1; then
    lack "the Rust toolchain (cargo, rustc $want or newer)" \
        "install rustup (https://rustup.rs), then: rustup toolchain install $want" \
        "install rustup (https://rustup.rs), then: rustup toolchain install $want"
else
    have=$(rustc --version | awk '{ print $2 }')
    # Oldest first: if the wanted version does not sort first, the installed one is older.
    if [ "$(printf '%s\n%s\n' "$want" "${have%%-*}" | sort -V | head -n 1)" != "$want" ]; then
        lack "Rust $want or newer (rustc is $have)" \
            "rustup update stable (or: rustup toolchain install $want)" \
            "rustup update stable (or: rustup toolchain install $want)"
    fi
fi

# A C compiler and linker: the bundled SQLite and ring are C, and rustc links through cc.
if ! command -v cc >/dev/null 2>&1; then
    lack "a C compiler (cc)" "sudo apt install build-essential" "sudo dnf install gcc make"
fi

# The Python SDK suite (tests/sdk_python.rs) runs the official SDKs from a venv.
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    lack "$PYTHON (the SDK suite runs the openai and anthropic Python SDKs)" \
        "sudo apt install python3 python3-venv" "sudo dnf install python3"
elif ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    lack "$PYTHON -m venv (Python's venv with ensurepip)" \
        "sudo apt install python3-venv" "sudo dnf install python3"
fi

# The packages' build links the system SQLite; sqlx generates its bindings with libclang.
case " $* " in
*system-sqlite*)
    if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists sqlite3; then
        lack "the system SQLite headers (feature system-sqlite)" \
            "sudo apt install libsqlite3-dev pkg-config" "sudo dnf install sqlite-devel pkgconf"
    fi
    found=
    for f in /usr/lib/llvm-*/lib/libclang*.so* /usr/lib*/libclang*.so* \
        /usr/lib/*-linux-gnu/libclang*.so* "${LIBCLANG_PATH:-/nonexistent}"/libclang*.so*; do
        [ -e "$f" ] && found=1 && break
    done
    if [ -z "$found" ]; then
        lack "libclang (feature system-sqlite: sqlx runs bindgen on the system sqlite3.h)" \
            "sudo apt install libclang-dev" "sudo dnf install clang-devel"
    fi
    ;;
esac

if [ "$missing" -gt 0 ]; then
    echo "make test: $missing prerequisite(s) missing (above); install them and run it again." >&2
    exit 1
fi
echo "prerequisites: Rust ${have:-?} (>= $want), cc, $PYTHON with venv$(case " $* " in *system-sqlite*) echo ', system SQLite, libclang' ;; esac)"
