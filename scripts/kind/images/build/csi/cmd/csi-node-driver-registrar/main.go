// Command csi-node-driver-registrar is a stand-in for github.com/kubernetes-csi/node-driver-registrar
// (v2.x), with the flags dirtk's manifests pass: it asks the CSI driver at -csi-address for its name,
// registers it with the kubelet's plugin watcher through <plugin-registration-path>/<name>-reg.sock
// (the kubelet then talks to the driver at -kubelet-registration-path), and serves /healthz on
// -http-endpoint while the registration socket and the driver answer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	registration "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

const version = "v2.15.0-dirtk"

type registrar struct {
	registration.UnimplementedRegistrationServer
	driverName string
	endpoint   string
}

func main() {
	csiAddress := flag.String("csi-address", "/run/csi/socket", "the CSI driver's socket, as seen from this container")
	kubeletPath := flag.String("kubelet-registration-path", "", "the CSI driver's socket, as the kubelet sees it on the node")
	registrationDir := flag.String("plugin-registration-path", "/registration", "the kubelet's plugin registration directory, as mounted here")
	httpEndpoint := flag.String("http-endpoint", "", "address of the /healthz endpoint (e.g. :9809); empty for none")
	timeout := flag.Duration("timeout", time.Second, "timeout of each call to the CSI driver")
	flag.Int("v", 0, "log verbosity (accepted for compatibility)")
	flag.Parse()
	if *kubeletPath == "" {
		log.Fatal("--kubelet-registration-path is required")
	}

	name := driverName(*csiAddress, *timeout)
	socket := filepath.Join(*registrationDir, fmt.Sprintf("%s-reg.sock", name))
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Fatal(err)
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		log.Fatal(err)
	}
	server := grpc.NewServer()
	registration.RegisterRegistrationServer(server, &registrar{driverName: name, endpoint: *kubeletPath})
	go func() {
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
		<-signals
		log.Printf("stopping; removing %s", socket)
		_ = os.Remove(socket)
		os.Exit(0)
	}()
	if *httpEndpoint != "" {
		go serveHealth(*httpEndpoint, socket, *csiAddress, *timeout)
	}
	log.Printf("csi-node-driver-registrar %s: registering %s (kubelet endpoint %s) at %s", version, name, *kubeletPath, socket)
	if err := server.Serve(listener); err != nil {
		log.Fatal(err)
	}
}

// driverName asks the CSI driver for its name, waiting until it answers.
func driverName(address string, timeout time.Duration) string {
	for attempt := 1; ; attempt++ {
		name, err := probe(address, timeout)
		if err == nil {
			return name
		}
		log.Printf("waiting for the CSI driver at %s (attempt %d): %v", address, attempt, err)
		time.Sleep(time.Second)
	}
}

func probe(address string, timeout time.Duration) (string, error) {
	conn, err := grpc.NewClient("unix://"+address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	info, err := csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{})
	if err != nil {
		return "", err
	}
	if info.GetName() == "" {
		return "", errors.New("the driver reports an empty name")
	}
	return info.GetName(), nil
}

func serveHealth(address, socket, csiAddress string, timeout time.Duration) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if _, err := os.Stat(socket); err != nil {
			http.Error(w, fmt.Sprintf("registration socket: %v", err), http.StatusServiceUnavailable)
			return
		}
		if _, err := probe(csiAddress, timeout); err != nil {
			http.Error(w, fmt.Sprintf("CSI driver: %v", err), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	log.Fatal(http.ListenAndServe(address, mux))
}

func (r *registrar) GetInfo(context.Context, *registration.InfoRequest) (*registration.PluginInfo, error) {
	return &registration.PluginInfo{
		Type:              registration.CSIPlugin,
		Name:              r.driverName,
		Endpoint:          r.endpoint,
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

func (r *registrar) NotifyRegistrationStatus(_ context.Context, status *registration.RegistrationStatus) (*registration.RegistrationStatusResponse, error) {
	if !status.PluginRegistered {
		log.Printf("the kubelet refused the registration: %s", status.Error)
		os.Exit(1)
	}
	log.Printf("registered %s with the kubelet", r.driverName)
	return &registration.RegistrationStatusResponse{}, nil
}
