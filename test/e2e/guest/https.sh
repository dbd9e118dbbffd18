# A throw-away TLS CA and the static HTTPS server (https-static-server.ts),
# for the scenarios and the bench that stream images over HTTPS. Sourced after lib.sh.

# make_test_ca DIR: DIR/ca.pem (self-signed CA) and DIR/server.{pem,key} for
# localhost and 127.0.0.1, signed by that CA. Nothing outside DIR trusts it.
make_test_ca() {
  local dir=$1
  command -v openssl >/dev/null || fail "openssl missing: install the Debian package 'openssl'"
  step "test CA and server certificate in $dir"
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=virtual-media-e2e-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null || fail "openssl: CA"
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null || fail "openssl: server key"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null || fail "openssl: sign server certificate"
}

# start_https_server ROOT CERTDIR [server options...]: serves ROOT on 127.0.0.1;
# sets HTTPS_PORT and HTTPS_PID and registers the server's cleanup.
start_https_server() {
  local root=$1 certs=$2; shift 2
  local port_file; port_file=$(mktemp -u /tmp/e2e-https-port.XXXXXX)
  step "start the HTTPS server for $root"
  (cd "$E2E_REPO" && exec node --import tsx test/e2e/guest/https-static-server.ts \
    --root "$root" --cert "$certs/server.pem" --key "$certs/server.key" --port-file "$port_file" "$@") &
  HTTPS_PID=$!
  on_exit "kill $HTTPS_PID; wait $HTTPS_PID"
  wait_for 60 "the HTTPS server to listen" test -s "$port_file"
  HTTPS_PORT=$(cat "$port_file")
  rm -f "$port_file"
}
