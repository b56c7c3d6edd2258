// Command go-spiffe-peer is the go-spiffe side of dirtk's interoperability tests: servers and clients
// built only from go-spiffe (the reference SPIFFE SDK) and grpc-go, which get their identity from the
// Workload API named by SPIFFE_ENDPOINT_SOCKET. Every subcommand writes one JSON object per line on
// stdout; servers print {"listening":...} first, then one line per event (call, rejected handshake).
//
// Servers exit when stdin closes, so they never outlive the test that started them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffegrpc/grpccredentials"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type options struct {
	addr              string
	authorizeID       string
	authorizeMemberOf string
	audience          string
	serverID          string
	trustDomain       string
	timeout           time.Duration
	// deadline bounds a whole client command (sources, JWT-SVID, call) or a server's start.
	deadline time.Time
}

var started = time.Now()

// step reports on stderr how far a command got, so a slow or stuck run shows where it stopped.
func step(what string) {
	fmt.Fprintf(os.Stderr, "[go-spiffe-peer +%dms] %s\n", time.Since(started).Milliseconds(), what)
}

var stdout = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

// emit writes one JSON line on stdout.
func emit(v map[string]any) {
	stdout.Lock()
	defer stdout.Unlock()
	_ = stdout.enc.Encode(v)
}

func fail(err error) {
	emit(map[string]any{"ok": false, "error": err.Error()})
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-spiffe-peer serve-mtls|call-mtls|serve-jwt|call-jwt|serve-hostile [flags]")
		os.Exit(2)
	}
	command := os.Args[1]
	fs := flag.NewFlagSet(command, flag.ExitOnError)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "address to listen on (servers) or to call (clients)")
	fs.StringVar(&o.authorizeID, "authorize-id", "", "authorize exactly this SPIFFE ID as the peer")
	fs.StringVar(&o.authorizeMemberOf, "authorize-member-of", "", "authorize any member of this trust domain as the peer")
	fs.StringVar(&o.audience, "audience", "", "JWT-SVID audience")
	fs.StringVar(&o.serverID, "server-id", "", "SPIFFE ID the server must present (call-jwt)")
	fs.StringVar(&o.trustDomain, "trust-domain", "", "trust domain of the hostile leaf (serve-hostile)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Second, "how long a client command may take in all, or a server to start")
	_ = fs.Parse(os.Args[2:])
	o.deadline = started.Add(o.timeout)

	var err error
	switch command {
	case "serve-mtls":
		err = serveMTLS(o)
	case "call-mtls":
		err = callMTLS(o)
	case "serve-jwt":
		err = serveJWT(o)
	case "call-jwt":
		err = callJWT(o)
	case "serve-hostile":
		err = serveHostile(o)
	default:
		err = fmt.Errorf("unknown subcommand %q", command)
	}
	if err != nil {
		fail(err)
	}
}

// exitWhenStdinCloses ends a server when the process that started it goes away.
func exitWhenStdinCloses() {
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
}

func authorizer(o options) (tlsconfig.Authorizer, error) {
	switch {
	case o.authorizeID != "" && o.authorizeMemberOf != "":
		return nil, errors.New("give either --authorize-id or --authorize-member-of, not both")
	case o.authorizeID != "":
		id, err := spiffeid.FromString(o.authorizeID)
		if err != nil {
			return nil, fmt.Errorf("--authorize-id: %w", err)
		}
		return tlsconfig.AuthorizeID(id), nil
	case o.authorizeMemberOf != "":
		td, err := spiffeid.TrustDomainFromString(o.authorizeMemberOf)
		if err != nil {
			return nil, fmt.Errorf("--authorize-member-of: %w", err)
		}
		return tlsconfig.AuthorizeMemberOf(td), nil
	default:
		return nil, errors.New("--authorize-id or --authorize-member-of is required")
	}
}

func x509Source(o options) (*workloadapi.X509Source, string, error) {
	ctx, cancel := context.WithDeadline(context.Background(), o.deadline)
	defer cancel()
	source, err := workloadapi.NewX509Source(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("X509Source from the Workload API: %w", err)
	}
	step("X509Source ready")
	svid, err := source.GetX509SVID()
	if err != nil {
		source.Close()
		return nil, "", err
	}
	return source, svid.ID.String(), nil
}

func jwtSource(o options) (*workloadapi.JWTSource, error) {
	ctx, cancel := context.WithDeadline(context.Background(), o.deadline)
	defer cancel()
	source, err := workloadapi.NewJWTSource(ctx)
	if err != nil {
		return nil, fmt.Errorf("JWTSource from the Workload API: %w", err)
	}
	step("JWTSource ready")
	return source, nil
}

// reportingCredentials reports failed server handshakes (e.g. a client the authorizer refused) as
// {"event":"handshake-error"} lines. It passes go-spiffe's AuthInfo through, so PeerIDFromContext works.
type reportingCredentials struct {
	credentials.TransportCredentials
}

func (c reportingCredentials) ServerHandshake(rawConn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(rawConn)
	if err != nil {
		emit(map[string]any{"event": "handshake-error", "remote": rawConn.RemoteAddr().String(), "error": err.Error()})
	}
	return conn, info, err
}

func (c reportingCredentials) Clone() credentials.TransportCredentials {
	return reportingCredentials{c.TransportCredentials.Clone()}
}

func listen(o options, server *grpc.Server, id string) error {
	lis, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	emit(map[string]any{"listening": lis.Addr().String(), "id": id})
	exitWhenStdinCloses()
	return server.Serve(lis)
}

// serveMTLS serves grpc.health.v1 behind go-spiffe mTLS and reports every call with the peer's SPIFFE ID.
func serveMTLS(o options) error {
	authz, err := authorizer(o)
	if err != nil {
		return err
	}
	source, id, err := x509Source(o)
	if err != nil {
		return err
	}
	defer source.Close()
	creds := reportingCredentials{grpccredentials.MTLSServerCredentials(source, source, authz)}
	server := grpc.NewServer(grpc.Creds(creds), grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		peerID, ok := grpccredentials.PeerIDFromContext(ctx)
		if !ok {
			emit(map[string]any{"event": "call", "method": info.FullMethod, "peer": nil})
			return nil, status.Error(codes.Unauthenticated, "no peer SPIFFE ID")
		}
		emit(map[string]any{"event": "call", "method": info.FullMethod, "peer": peerID.String()})
		return handler(ctx, req)
	}))
	healthpb.RegisterHealthServer(server, health.NewServer())
	return listen(o, server, id)
}

// serveJWT serves grpc.health.v1 over server-authenticated TLS (go-spiffe) and accepts only calls with a
// JWT-SVID bearer token valid for --audience against the JWT bundles of the Workload API.
func serveJWT(o options) error {
	if o.audience == "" {
		return errors.New("--audience is required")
	}
	source, id, err := x509Source(o)
	if err != nil {
		return err
	}
	defer source.Close()
	bundles, err := jwtSource(o)
	if err != nil {
		return err
	}
	defer bundles.Close()
	creds := reportingCredentials{grpccredentials.TLSServerCredentials(source)}
	server := grpc.NewServer(grpc.Creds(creds), grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		subject, err := bearerSubject(ctx, bundles, o.audience)
		if err != nil {
			emit(map[string]any{"event": "jwt-rejected", "method": info.FullMethod, "error": err.Error()})
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
		emit(map[string]any{"event": "call", "method": info.FullMethod, "subject": subject})
		return handler(ctx, req)
	}))
	healthpb.RegisterHealthServer(server, health.NewServer())
	return listen(o, server, id)
}

func bearerSubject(ctx context.Context, bundles *workloadapi.JWTSource, audience string) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) != 1 {
		return "", fmt.Errorf("expected one authorization header, got %d", len(values))
	}
	scheme, token, found := strings.Cut(values[0], " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", errors.New("authorization is not a bearer token")
	}
	svid, err := jwtsvid.ParseAndValidate(strings.TrimSpace(token), bundles, []string{audience})
	if err != nil {
		return "", err
	}
	return svid.ID.String(), nil
}

// check calls grpc.health.v1.Health/Check once and prints the outcome.
func check(o options, id string, creds credentials.TransportCredentials, callOptions ...grpc.CallOption) error {
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithDeadline(context.Background(), o.deadline)
	defer cancel()
	response, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, callOptions...)
	if err != nil {
		emit(map[string]any{"ok": false, "id": id, "code": status.Code(err).String(), "error": err.Error()})
		os.Exit(1)
	}
	emit(map[string]any{"ok": true, "id": id, "status": response.GetStatus().String()})
	return nil
}

func callMTLS(o options) error {
	authz, err := authorizer(o)
	if err != nil {
		return err
	}
	source, id, err := x509Source(o)
	if err != nil {
		return err
	}
	defer source.Close()
	return check(o, id, grpccredentials.MTLSClientCredentials(source, source, authz))
}

// callJWT calls over TLS that authenticates the server only, with a JWT-SVID for --audience as bearer.
func callJWT(o options) error {
	if o.audience == "" || o.serverID == "" {
		return errors.New("--audience and --server-id are required")
	}
	serverID, err := spiffeid.FromString(o.serverID)
	if err != nil {
		return fmt.Errorf("--server-id: %w", err)
	}
	source, _, err := x509Source(o)
	if err != nil {
		return err
	}
	defer source.Close()
	tokens, err := jwtSource(o)
	if err != nil {
		return err
	}
	defer tokens.Close()
	ctx, cancel := context.WithDeadline(context.Background(), o.deadline)
	defer cancel()
	svid, err := tokens.FetchJWTSVID(ctx, jwtsvid.Params{Audience: o.audience})
	if err != nil {
		return fmt.Errorf("fetching a JWT-SVID: %w", err)
	}
	step("JWT-SVID fetched")
	return check(o, svid.ID.String(), grpccredentials.TLSClientCredentials(source, tlsconfig.AuthorizeID(serverID)),
		grpc.PerRPCCredentials(bearer(svid.Marshal())))
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return true }
