// SPDX-License-Identifier: Apache-2.0

// go_ticket_server is the Go crypto/tls server of the interop tests: it loads
// session ticket keys from a file in stekctl's `go` export format (one
// standard-base64 32-byte key per line, the first line encrypts), hands them
// to tls.Config.SetSessionTicketKeys, and answers every connection with a
// short HTTP/1.0 response, so that `openssl s_client -ign_eof` with a request
// also collects the TLS 1.3 tickets. SIGHUP re-reads the key file; SIGTERM or
// SIGINT ends it. It prints "listening" once it accepts connections.
//
// Usage: go_ticket_server -listen 127.0.0.1:PORT -cert CERT -key KEY -keys FILE
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// readKeys parses a `go` export: one base64 32-byte key per line, blank lines
// ignored, at least one key.
func readKeys(path string) ([][32]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys [][32]byte
	for number, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, number+1, err)
		}
		if len(raw) != 32 {
			return nil, fmt.Errorf("%s:%d: %d bytes, want 32", path, number+1, len(raw))
		}
		var key [32]byte
		copy(key[:], raw)
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New(path + ": no keys")
	}
	return keys, nil
}

// serve answers one connection: finish the handshake, read the request head
// (or whatever arrives before the deadline), send a short response, close.
func serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	tlsConn := conn.(*tls.Conn)
	if err := tlsConn.Handshake(); err != nil {
		fmt.Fprintln(os.Stderr, "handshake:", err)
		return
	}
	reader := bufio.NewReader(tlsConn)
	for {
		line, err := reader.ReadString('\n')
		if err != nil || strings.TrimSpace(line) == "" {
			break
		}
	}
	state := tlsConn.ConnectionState()
	body := fmt.Sprintf("go_ticket_server resumed=%t version=%x\n", state.DidResume, state.Version)
	_, _ = io.WriteString(tlsConn, fmt.Sprintf(
		"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		len(body), body))
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	certFile := flag.String("cert", "", "PEM certificate")
	keyFile := flag.String("key", "", "PEM private key")
	keysFile := flag.String("keys", "", "session ticket keys, one base64 32-byte key per line")
	flag.Parse()
	if *certFile == "" || *keyFile == "" || *keysFile == "" {
		fmt.Fprintln(os.Stderr, "usage: go_ticket_server -listen ADDR -cert CERT -key KEY -keys FILE")
		os.Exit(2)
	}

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "certificate:", err)
		os.Exit(1)
	}
	keys, err := readKeys(*keysFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keys:", err)
		os.Exit(1)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   tls.VersionTLS13,
	}
	config.SetSessionTicketKeys(keys)

	listener, err := tls.Listen("tcp", *listen, config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range signals {
			if s != syscall.SIGHUP {
				listener.Close()
				os.Exit(0)
			}
			fresh, err := readKeys(*keysFile)
			if err != nil {
				// Keep the old keys, as a server reload that fails would.
				fmt.Fprintln(os.Stderr, "reload:", err)
				continue
			}
			config.SetSessionTicketKeys(fresh)
			fmt.Printf("reloaded %d keys\n", len(fresh))
		}
	}()

	fmt.Printf("listening on %s with %d keys\n", listener.Addr(), len(keys))
	for {
		conn, err := listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			fmt.Fprintln(os.Stderr, "accept:", err)
			continue
		}
		go serve(conn)
	}
}
