#!/usr/bin/env bash
# Regenerates the TEST-ONLY TLS material used by the net integration tests (never use in
# production). Needs only the openssl CLI. Certificates are valid for 10 years from generation.
#   ca.crt / ca.key           test CA
#   server.crt / server.key   signed by the test CA, SAN: DNS:localhost, IP:127.0.0.1, IP:::1
#   wrong_host.crt            signed by the test CA with server.key, SAN: DNS:wrong.example only
#                             (host name verification failure tests)
#   other_ca.crt / .key       an unrelated CA (unknown-CA tests)
set -euo pipefail
cd "$(dirname "$0")"
days=3650
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make_ca() {  # name subject
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.crt" -days "$days" -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

sign() {  # out-cert key subject san
  openssl req -new -key "$2" -subj "$3" -out "$tmp/req.csr"
  cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$4
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash
EXT
  openssl x509 -req -in "$tmp/req.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out "$1" -days "$days" -extfile "$tmp/ext.cnf" 2>/dev/null
}

make_ca ca "/CN=kazoo-bridge test CA"
make_ca other_ca "/CN=kazoo-bridge unrelated test CA"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out server.key
sign server.crt server.key "/CN=localhost" "DNS:localhost,IP:127.0.0.1,IP:::1"
sign wrong_host.crt server.key "/CN=wrong.example" "DNS:wrong.example"
rm -f ca.srl
chmod 644 ./*.key
echo "regenerated test TLS material in $(pwd)"
