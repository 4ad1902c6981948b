#!/usr/bin/env bash
# A throwaway single-node Elasticsearch for the tests, on 127.0.0.1 only, without security.
#
#   scripts/test-elasticsearch.sh start    # (re)creates and starts it; prints its URL on stdout
#   scripts/test-elasticsearch.sh url      # prints the URL of the running node
#   scripts/test-elasticsearch.sh status   # exit 0 when it is running
#   scripts/test-elasticsearch.sh stop     # stops it and deletes its data directory
#
#   export TEST_ELASTIC_URL="$(scripts/test-elasticsearch.sh start)"
#   .venv/bin/python -m pytest tests/test_search_store.py tests/test_elastic.py
#   scripts/test-elasticsearch.sh stop
#
# Where it comes from: the `integ-test-zip` distribution that Elastic publishes on Maven Central
# (org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip), fetched with
# `mvn dependency:copy`. It is the newest Elasticsearch there: Maven Central has no 9.x
# integ-test-zip (nor any other 9.x distribution), so the default is 8.19.21, the last 8.x, and the
# whole project uses major version 8: the Python client (Pipfile) and the compose image too.
#
# That zip has no JDK and no analysis-common module, so it lacks the `english` analyzer (and the
# `asciifolding` and `porter_stem` filters) that every other distribution has. This script builds
# a small plugin from the same Lucene classes that analysis-common uses (EnglishAnalyzer,
# ASCIIFoldingFilter, PorterStemFilter) and installs it, so the index mapping is the one used
# against the Docker image (docker-compose.yaml) and the analysis is the same.
#
# Settings (environment):
#   TEST_ES_VERSION    integ-test-zip version (default 8.19.21)
#   TEST_ES_PORT       HTTP port (default 9259); the transport port is TEST_ES_PORT+100
#   TEST_ES_HEAP       JVM heap (default 512m)
#   TEST_ES_CACHE      where the zip, the unpacked node and the plugin are kept between runs
#                      (default ${XDG_CACHE_HOME:-$HOME/.cache}/movies-assistant/elasticsearch; as
#                      root /var/cache/movies-assistant/elasticsearch, since /root is not readable
#                      by the unprivileged user the node runs as)
#   TEST_ES_BASE       directory for config, data, logs and URL (default /tmp/movies-assistant-es-<port>);
#                      `start` deletes whatever an earlier `start` left there
#   TEST_ES_JAVA_HOME  JDK to run it with (default: a JDK 17 or 21 from /usr/lib/jvm; 25 also works)
#   TEST_ES_WAIT       seconds to wait for the cluster to turn yellow (default 180)
#   TEST_ES_KEEP=1     `stop` keeps the directory (to read the log)
#
# Elasticsearch refuses to run as root: as root the node runs as the system user `esrunner`
# (created when missing). Needs mvn, unzip, curl and a JDK >= 17 (installed with apt-get as root
# when missing).
set -euo pipefail

VERSION="${TEST_ES_VERSION:-8.19.21}"
PORT="${TEST_ES_PORT:-9259}"
HEAP="${TEST_ES_HEAP:-512m}"
WAIT="${TEST_ES_WAIT:-180}"
BASE="${TEST_ES_BASE:-/tmp/movies-assistant-es-${PORT}}"
if [ -n "${TEST_ES_CACHE:-}" ]; then
    CACHE="$TEST_ES_CACHE"
elif [ "$(id -u)" = 0 ]; then
    CACHE=/var/cache/movies-assistant/elasticsearch
else
    CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/movies-assistant/elasticsearch"
fi
RUN_USER=esrunner
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${VERSION}:zip"
ZIP="$CACHE/elasticsearch-${VERSION}.zip"
ES_HOME_DIR="$CACHE/elasticsearch-${VERSION}"
PLUGIN_NAME=movies-assistant-analysis-english
MARKER="$BASE/.movies-assistant-test-elasticsearch"
PID_FILE="$BASE/es.pid"
URL_FILE="$BASE/url"
LOG_DIR="$BASE/logs"

say() { echo "test-elasticsearch: $*" >&2; }
die() { say "error: $*"; exit 1; }

case "$PORT" in '' | *[!0-9]*) die "TEST_ES_PORT must be a port number, not '$PORT'" ;; esac
case "$BASE" in /*) ;; *) die "TEST_ES_BASE must be an absolute path, not '$BASE'" ;; esac
case "$CACHE" in /*) ;; *) die "TEST_ES_CACHE must be an absolute path, not '$CACHE'" ;; esac
case "$WAIT" in '' | *[!0-9]*) die "TEST_ES_WAIT must be a number of seconds, not '$WAIT'" ;; esac
TRANSPORT_PORT=$((PORT + 100))

# Deletes $BASE, but only a directory this script made (TEST_ES_BASE could name anything).
remove_base() {
    [ -e "$BASE" ] || return 0
    [ -f "$MARKER" ] || die "$BASE exists but was not made by this script; remove it or set TEST_ES_BASE"
    rm -rf "$BASE"
}

apt_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    say "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq --no-install-recommends "$@" >&2
}

need() {  # need COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    apt_install "$2" || die "$1 is not installed; install it (Debian: apt-get install $2) and retry"
    command -v "$1" >/dev/null 2>&1 || die "$1 is still missing after installing $2"
}

java_major() {  # the feature version of the JDK at $1, or nothing
    "$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p'
}

# A JDK (with javac, for the plugin) that this Elasticsearch supports: 17 or 21 preferred.
find_jdk() {
    local dir major
    if [ -n "${TEST_ES_JAVA_HOME:-}" ]; then
        [ -x "$TEST_ES_JAVA_HOME/bin/java" ] && [ -x "$TEST_ES_JAVA_HOME/bin/javac" ] ||
            die "TEST_ES_JAVA_HOME=$TEST_ES_JAVA_HOME is not a JDK (needs bin/java and bin/javac)"
        echo "$TEST_ES_JAVA_HOME"
        return 0
    fi
    for want in 21 17 25 24; do
        for dir in /usr/lib/jvm/*; do
            [ -d "$dir" ] && [ ! -L "$dir" ] && [ -x "$dir/bin/java" ] && [ -x "$dir/bin/javac" ] || continue
            major="$(java_major "$dir")"
            [ "$major" = "$want" ] && { echo "$dir"; return 0; }
        done
    done
    return 1
}

SERVICE_USER="$RUN_USER"
# shellcheck source=scripts/service-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/service-lib.sh"

# The pid in $PID_FILE when that process is this node (not a recycled pid).
node_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-Des.path.home=$ES_HOME_DIR" || return 1
    echo "$pid"
}

is_running() { node_pid >/dev/null; }

healthy() {
    curl -fsS -m 5 "http://127.0.0.1:$PORT/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null |
        grep -Eq '"status":"(yellow|green)"'
}

stop_node() {
    local pid i
    pid="$(node_pid)" || return 0
    say "stopping the node on port $PORT (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    say "the node did not stop in 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
}

# The zip, from Maven Central (or the local Maven repository), kept in $CACHE.
fetch_zip() {
    [ -s "$ZIP" ] && unzip -tq "$ZIP" >/dev/null 2>&1 && return 0
    need mvn maven
    mkdir -p "$CACHE"
    say "downloading $ARTIFACT with Maven"
    local out="$CACHE/.download.$$"
    rm -rf "$out"
    if ! mvn -B -q dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$out" -Dmdep.overWriteReleases=true >&2; then
        rm -rf "$out"
        die "mvn could not fetch $ARTIFACT (versions on Maven Central: https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/elasticsearch/maven-metadata.xml); set TEST_ES_VERSION"
    fi
    mv "$out/elasticsearch-${VERSION}.zip" "$ZIP"
    rm -rf "$out"
}

# The Java source of the analysis plugin (see the header).
plugin_source() {
    cat <<'JAVA'
package movies_assistant.analysis;

import java.util.List;
import java.util.Map;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.PreBuiltAnalyzerProviderFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.indices.analysis.PreBuiltCacheFactory.CachingStrategy;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/** The `english` analyzer and `asciifolding`/`porter_stem` filters, as analysis-common defines them. */
public class EnglishAnalysisPlugin extends Plugin implements AnalysisPlugin {
    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of("english", (indexSettings, env, name, settings) -> {
            EnglishAnalyzer analyzer = new EnglishAnalyzer(
                Analysis.parseStopWords(env, settings, EnglishAnalyzer.getDefaultStopSet()),
                Analysis.parseStemExclusion(settings, CharArraySet.EMPTY_SET));
            return new AbstractIndexAnalyzerProvider<EnglishAnalyzer>(name, settings) {
                @Override
                public EnglishAnalyzer get() {
                    return analyzer;
                }
            };
        });
    }

    @Override
    public List<PreBuiltAnalyzerProviderFactory> getPreBuiltAnalyzerProviderFactories() {
        return List.of(new PreBuiltAnalyzerProviderFactory("english", CachingStrategy.LUCENE, EnglishAnalyzer::new));
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "asciifolding", (indexSettings, env, name, settings) -> {
                boolean preserve = settings.getAsBoolean("preserve_original", false);
                return new FoldingFactory(name, settings, preserve);
            },
            "porter_stem", (indexSettings, env, name, settings) -> new AbstractTokenFilterFactory(name, settings) {
                @Override
                public TokenStream create(TokenStream stream) {
                    return new PorterStemFilter(stream);
                }
            });
    }

    static final class FoldingFactory extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        private final boolean preserve;

        FoldingFactory(String name, org.elasticsearch.common.settings.Settings settings, boolean preserve) {
            super(name, settings);
            this.preserve = preserve;
        }

        @Override
        public TokenStream create(TokenStream stream) {
            return new ASCIIFoldingFilter(stream, preserve);
        }
    }
}
JAVA
}

# Builds the plugin into $1 (a plugin directory) with the JDK at $2.
build_plugin() {
    local dest="$1" jdk="$2" work
    work="$(mktemp -d)"
    mkdir -p "$work/src/movies_assistant/analysis" "$work/classes"
    plugin_source >"$work/src/movies_assistant/analysis/EnglishAnalysisPlugin.java"
    "$jdk/bin/javac" --release 17 -nowarn -cp "$ES_HOME_DIR/lib/*" -d "$work/classes" \
        "$work/src/movies_assistant/analysis/EnglishAnalysisPlugin.java" >&2 ||
        { rm -rf "$work"; die "could not compile the analysis plugin"; }
    mkdir -p "$dest"
    "$jdk/bin/jar" --create --file "$dest/$PLUGIN_NAME.jar" -C "$work/classes" . ||
        { rm -rf "$work"; die "could not package the analysis plugin"; }
    cat >"$dest/plugin-descriptor.properties" <<EOF
description=The english analyzer and the asciifolding and porter_stem filters (Lucene's), for tests
version=$VERSION
name=$PLUGIN_NAME
classname=movies_assistant.analysis.EnglishAnalysisPlugin
java.version=17
elasticsearch.version=$VERSION
EOF
    rm -rf "$work"
}

# The unpacked node with the plugin, kept in $CACHE (built once per version).
prepare_home() {
    local jdk="$1" tmp
    if [ -f "$ES_HOME_DIR/.complete" ]; then
        return 0
    fi
    fetch_zip
    need unzip unzip
    say "unpacking $(basename "$ZIP") into $CACHE"
    tmp="$CACHE/.unpack.$$"
    rm -rf "$tmp" "$ES_HOME_DIR"
    mkdir -p "$tmp"
    unzip -q "$ZIP" -d "$tmp" || { rm -rf "$tmp"; die "could not unpack $ZIP (delete it to download again)"; }
    mv "$tmp/elasticsearch-${VERSION}" "$ES_HOME_DIR"
    rm -rf "$tmp"
    if [ ! -d "$ES_HOME_DIR/modules/analysis-common" ]; then
        say "building the analysis plugin ($PLUGIN_NAME)"
        build_plugin "$ES_HOME_DIR/plugins/$PLUGIN_NAME" "$jdk"
    fi
    chmod -R a+rX "$ES_HOME_DIR"
    touch "$ES_HOME_DIR/.complete"
}

start() {
    local started jdk pid i config
    started=$SECONDS
    need curl curl
    jdk="$(find_jdk)" || { apt_install openjdk-17-jdk-headless || true; jdk="$(find_jdk)"; } ||
        die "no JDK 17/21/25 found in /usr/lib/jvm; install one (Debian: apt-get install openjdk-17-jdk-headless) or set TEST_ES_JAVA_HOME"
    prepare_home "$jdk"

    # Throwaway: whatever an earlier run left behind (running or not) goes first.
    stop_node
    remove_base
    port_in_use "$PORT" && die "port $PORT on 127.0.0.1 is already in use (another program, or a node from an earlier run whose directory was deleted); choose another port with TEST_ES_PORT"
    port_in_use "$TRANSPORT_PORT" && die "port $TRANSPORT_PORT (transport, TEST_ES_PORT+100) on 127.0.0.1 is already in use; choose another TEST_ES_PORT"

    if [ "$(id -u)" = 0 ]; then
        id "$RUN_USER" >/dev/null 2>&1 ||
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
        as_owner test -r "$ES_HOME_DIR/lib/elasticsearch-${VERSION}.jar" ||
            die "user $RUN_USER cannot read $ES_HOME_DIR; set TEST_ES_CACHE to a directory every user can read"
    fi
    mkdir -p "$BASE"
    touch "$MARKER"
    config="$BASE/config"
    cp -R "$ES_HOME_DIR/config" "$config"
    cat >"$config/elasticsearch.yml" <<EOF
cluster.name: movies-assistant-test
node.name: movies-assistant-test
discovery.type: single-node
network.host: 127.0.0.1
http.port: $PORT
transport.port: $TRANSPORT_PORT
path.data: $BASE/data
path.logs: $LOG_DIR
xpack.security.enabled: false
# a nearly full disk must not turn the test indices read-only
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
    mkdir -p "$BASE/data" "$LOG_DIR" "$BASE/tmp"
    [ "$(id -u)" = 0 ] && chown -R "$RUN_USER": "$BASE"

    say "starting Elasticsearch $VERSION on 127.0.0.1:$PORT (JDK $(java_major "$jdk"): $jdk; heap $HEAP)"
    if ! as_owner env ES_JAVA_HOME="$jdk" ES_PATH_CONF="$config" ES_TMPDIR="$BASE/tmp" \
        ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
        "$ES_HOME_DIR/bin/elasticsearch" -d -p "$PID_FILE" >"$BASE/startup.log" 2>&1; then
        cat "$BASE/startup.log" >&2 || true
        tail -n 40 "$LOG_DIR/movies-assistant-test.log" >&2 2>/dev/null || true
        die "Elasticsearch did not start (logs: $LOG_DIR)"
    fi
    for i in $(seq 1 "$WAIT"); do
        healthy && break
        if [ "$i" = "$WAIT" ] || ! is_running; then
            tail -n 40 "$LOG_DIR/movies-assistant-test.log" >&2 2>/dev/null || cat "$BASE/startup.log" >&2 || true
            is_running && die "the cluster is not yellow after ${WAIT}s (logs: $LOG_DIR)"
            die "Elasticsearch exited during startup (logs: $LOG_DIR)"
        fi
        sleep 1
    done
    pid="$(node_pid)"
    printf 'http://127.0.0.1:%s\n' "$PORT" >"$URL_FILE"
    say "ready in $((SECONDS - started))s (pid $pid)"
    cat "$URL_FILE"
}

stop() {
    stop_node
    if [ "${TEST_ES_KEEP:-0}" = 1 ]; then
        say "kept $BASE"
    else
        remove_base
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if is_running && healthy; then say "running on 127.0.0.1:$PORT"; else say "not running"; exit 1; fi ;;
    url) is_running && [ -f "$URL_FILE" ] || die "not running; use: $0 start"; cat "$URL_FILE" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
