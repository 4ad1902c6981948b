# Helpers shared by scripts/test-postgres.sh and scripts/test-elasticsearch.sh (sourced, not run).
# Each script sets SERVICE_USER: the unprivileged account that owns and runs its server when we are root.

# Runs a command as the server's owner: $SERVICE_USER when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u "$SERVICE_USER" -- "$@")
    else
        "$@"
    fi
}

# Whether something already listens on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
