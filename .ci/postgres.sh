# Sourced by .ci/run (and by developers, the same way): installs PostgreSQL
# from Debian's packages when missing, starts a throwaway cluster on a
# loopback port and exports TOKENLEDGER_TEST_PG for the store tests.
#
#   source .ci/postgres.sh            # stopped by an EXIT trap
#   TOKENLEDGER_PG_KEEP=1 source .ci/postgres.sh   # left running; stop with
#                                     # tokenledger_pg_stop or pg_ctl -D "$TOKENLEDGER_PG_DIR/data" stop
#
# TOKENLEDGER_PG_PORT picks the port (default 55432).

tokenledger_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ ! -x "$(tokenledger_pg_bin)/initdb" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
TOKENLEDGER_PG_BIN="$(tokenledger_pg_bin)"
TOKENLEDGER_PG_PORT="${TOKENLEDGER_PG_PORT:-55432}"
# A cluster left running (a developer's) keeps its port: take the next free one.
while (exec 3<>"/dev/tcp/127.0.0.1/$TOKENLEDGER_PG_PORT") 2>/dev/null; do
  TOKENLEDGER_PG_PORT=$((TOKENLEDGER_PG_PORT + 1))
done
TOKENLEDGER_PG_DIR="$(mktemp -d /tmp/tokenledger-pg.XXXXXX)"
export TOKENLEDGER_PG_DIR TOKENLEDGER_PG_PORT

# PostgreSQL refuses to run as root: the cluster belongs to the `postgres`
# user the Debian package creates.
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$TOKENLEDGER_PG_DIR"
  tokenledger_pg_as() { runuser -u postgres -- "$@"; }
else
  tokenledger_pg_as() { "$@"; }
fi

tokenledger_pg_stop() {
  tokenledger_pg_as "$TOKENLEDGER_PG_BIN/pg_ctl" -D "$TOKENLEDGER_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TOKENLEDGER_PG_DIR"
}

# Trust auth on loopback only: the cluster lives for one run and listens
# nowhere else. The socket stays in the temp dir, away from /var/run.
tokenledger_pg_as "$TOKENLEDGER_PG_BIN/initdb" -D "$TOKENLEDGER_PG_DIR/data" -U tokenledger \
  --auth=trust -E UTF8 --locale=C.UTF-8 >"$TOKENLEDGER_PG_DIR/initdb.log" 2>&1 \
  || { cat "$TOKENLEDGER_PG_DIR/initdb.log"; return 1 2>/dev/null || exit 1; }
tokenledger_pg_as "$TOKENLEDGER_PG_BIN/pg_ctl" -D "$TOKENLEDGER_PG_DIR/data" -l "$TOKENLEDGER_PG_DIR/server.log" -w \
  -o "-p $TOKENLEDGER_PG_PORT -k $TOKENLEDGER_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
  || { cat "$TOKENLEDGER_PG_DIR/server.log"; return 1 2>/dev/null || exit 1; }

if [ -z "${TOKENLEDGER_PG_KEEP:-}" ]; then
  trap tokenledger_pg_stop EXIT
fi
export TOKENLEDGER_TEST_PG="postgres://tokenledger@127.0.0.1:$TOKENLEDGER_PG_PORT/postgres"
echo "PostgreSQL $("$TOKENLEDGER_PG_BIN/postgres" --version | awk '{print $3}') for the store tests: TOKENLEDGER_TEST_PG=$TOKENLEDGER_TEST_PG"
