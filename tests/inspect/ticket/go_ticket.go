// SPDX-License-Identifier: Apache-2.0

// go_ticket mints real Go crypto/tls session tickets for the ticket tests:
// a server and a client in one process, over net.Pipe, the server keyed with
// SetSessionTicketKeys. Usage:
//
//	go run go_ticket.go KEY_HEX SNI
//
// KEY_HEX is the 32-byte key (64 hex digits). For each of TLS 1.2 and 1.3,
// without and with a client certificate, it prints one line:
//
//	VERSION CLIENT_CERT TICKET_HEX CIPHER_SUITE UNIX_BEFORE UNIX_AFTER
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"os"
	"reflect"
	"time"
)

// cache keeps the last session the client was given.
type cache struct{ state *tls.ClientSessionState }

func (c *cache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (c *cache) Put(_ string, cs *tls.ClientSessionState) {
	if cs != nil {
		c.state = cs
	}
}

func certificate() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	check(err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_ticket:", err)
		os.Exit(1)
	}
}

func mint(key [32]byte, sni string, version uint16, clientCert bool) {
	server := &tls.Config{
		Certificates: []tls.Certificate{certificate()},
		MinVersion:   version,
		MaxVersion:   version,
	}
	server.SetSessionTicketKeys([][32]byte{key})
	if clientCert {
		server.ClientAuth = tls.RequireAnyClientCert
	}
	c := &cache{}
	client := &tls.Config{
		ServerName:         sni,
		InsecureSkipVerify: true,
		ClientSessionCache: c,
		MinVersion:         version,
		MaxVersion:         version,
	}
	if clientCert {
		client.Certificates = []tls.Certificate{certificate()}
	}
	before := time.Now().Unix()
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() {
		s := tls.Server(a, server)
		err := s.Handshake()
		if err == nil {
			_, err = s.Write([]byte("x"))
		}
		done <- err
	}()
	cl := tls.Client(b, client)
	check(cl.Handshake())
	// TLS 1.3 tickets arrive after the handshake, with the first record.
	buf := make([]byte, 1)
	_, err := cl.Read(buf)
	check(err)
	check(<-done)
	after := time.Now().Unix()
	suite := cl.ConnectionState().CipherSuite
	// Close the server's end first: the client's close_notify then fails at
	// once instead of waiting out Go's 5 s write deadline on the pipe.
	a.Close()
	cl.Close()
	if c.state == nil {
		check(fmt.Errorf("no session ticket received"))
	}
	ticket := reflect.ValueOf(c.state).Elem().FieldByName("sessionTicket").Bytes()
	name := map[uint16]string{tls.VersionTLS12: "tls12", tls.VersionTLS13: "tls13"}[version]
	fmt.Printf("%s %t %s %d %d %d\n", name, clientCert, hex.EncodeToString(ticket), suite, before, after)
}

func main() {
	if len(os.Args) != 3 {
		check(fmt.Errorf("usage: go_ticket KEY_HEX SNI"))
	}
	raw, err := hex.DecodeString(os.Args[1])
	check(err)
	if len(raw) != 32 {
		check(fmt.Errorf("key must be 32 bytes"))
	}
	var key [32]byte
	copy(key[:], raw)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, clientCert := range []bool{false, true} {
			mint(key, os.Args[2], version, clientCert)
		}
	}
}
