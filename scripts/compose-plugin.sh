#!/usr/bin/env bash
# Installs the docker compose v2 CLI plugin, so tests/test_docker.py can run `docker compose config`.
#
#   scripts/compose-plugin.sh        # builds it once (cached), installs it, prints `docker compose version`
#
# Debian packages only the docker CLI and the old Python docker-compose 1.x, not compose v2, so the
# plugin is built from source with the ordinary Go client: `go mod download` fetches the
# github.com/docker/compose/v2 module at COMPOSE_VERSION through the Go module proxy (checked against
# the Go checksum database), and `go build` compiles its ./cmd inside that module, so compose's own
# go.mod (its replace and exclude directives) applies; `go install module@version` refuses modules
# that have such directives. Nothing of compose is kept in this repository.
#
# The binary is cached (COMPOSE_CACHE/docker-compose-<version>), so only the first run builds:
# about 2.5 minutes on an otherwise idle 2-core machine (11.5 minutes when six other jobs share
# it), then a second. The Go module and build caches of the
# build are temporary and deleted afterwards.
#
# Settings (environment):
#   COMPOSE_VERSION   compose release tag (default v2.40.3, the last v2 release)
#   COMPOSE_CACHE     where built binaries are kept (default /var/cache/movies-assistant/compose as
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

[ -x "$BINARY" ] || build
mkdir -p "$PLUGIN_DIR"
install -m 0755 "$BINARY" "$PLUGIN_DIR/docker-compose"
docker compose version
