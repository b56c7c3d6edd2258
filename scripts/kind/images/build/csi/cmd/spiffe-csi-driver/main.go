// Command spiffe-csi-driver is a stand-in for github.com/spiffe/spiffe-csi's driver (v0.2.x), with its
// command line and behaviour: an ephemeral, read-only inline CSI volume whose content is the SPIRE
// agent's Workload API socket directory, bind-mounted into the pod.
//
// Identity: GetPluginInfo (the -plugin-name), no capabilities, Probe ready. Node: NodeGetInfo (the node
// name from MY_NODE_NAME), no capabilities, NodePublishVolume bind-mounts -workload-api-socket-dir onto
// the target path and remounts it read-only; NodeUnpublishVolume unmounts and removes the target. Only
// ephemeral, read-only, filesystem volumes are accepted, as upstream.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const version = "0.2.7-dirtk"

type driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedNodeServer
	name      string
	nodeID    string
	socketDir string
}

func main() {
	socketDir := flag.String("workload-api-socket-dir", "", "the SPIRE agent's Workload API socket directory, mounted into pods")
	pluginName := flag.String("plugin-name", "csi.spiffe.io", "the CSI plugin name")
	csiSocket := flag.String("csi-socket-path", "/spiffe-csi/csi.sock", "where the CSI gRPC socket is created")
	flag.Parse()
	nodeID := os.Getenv("MY_NODE_NAME")
	if *socketDir == "" || nodeID == "" {
		log.Fatal("-workload-api-socket-dir and the MY_NODE_NAME environment variable are required")
	}
	if err := os.MkdirAll(filepath.Dir(*csiSocket), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.Remove(*csiSocket); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Fatal(err)
	}
	listener, err := net.Listen("unix", *csiSocket)
	if err != nil {
		log.Fatal(err)
	}
	d := &driver{name: *pluginName, nodeID: nodeID, socketDir: *socketDir}
	server := grpc.NewServer(grpc.UnaryInterceptor(logCalls))
	csi.RegisterIdentityServer(server, d)
	csi.RegisterNodeServer(server, d)
	go func() {
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
		<-signals
		server.GracefulStop()
	}()
	log.Printf("spiffe-csi-driver %s: plugin %s on node %s serving %s at %s", version, d.name, nodeID, d.socketDir, *csiSocket)
	if err := server.Serve(listener); err != nil {
		log.Fatal(err)
	}
}

func logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		log.Printf("%s: %v", info.FullMethod, err)
	}
	return resp, err
}

func (d *driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.name, VendorVersion: version}, nil
}

func (d *driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	return &csi.GetPluginCapabilitiesResponse{}, nil
}

func (d *driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{}, nil
}

func (d *driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: d.nodeID}, nil
}

func (d *driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{}, nil
}

func (d *driver) NodePublishVolume(_ context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	switch {
	case req.VolumeId == "":
		return nil, status.Error(codes.InvalidArgument, "request missing required volume id")
	case req.TargetPath == "":
		return nil, status.Error(codes.InvalidArgument, "request missing required target path")
	case req.VolumeCapability == nil:
		return nil, status.Error(codes.InvalidArgument, "request missing required volume capability")
	case req.VolumeCapability.GetMount() == nil:
		return nil, status.Error(codes.InvalidArgument, "only volume capability access type mount is supported")
	case req.VolumeContext["csi.storage.k8s.io/ephemeral"] != "true":
		return nil, status.Error(codes.InvalidArgument, "only ephemeral volumes are supported")
	case !req.Readonly:
		return nil, status.Error(codes.InvalidArgument, "pod.spec.volumes[].csi.readOnly must be set to 'true'")
	}
	mounted, err := isMountPoint(req.TargetPath)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "unable to check %s: %v", req.TargetPath, err)
	}
	if mounted {
		return &csi.NodePublishVolumeResponse{}, nil
	}
	if err := os.MkdirAll(req.TargetPath, 0o755); err != nil {
		return nil, status.Errorf(codes.Internal, "unable to create target path %q: %v", req.TargetPath, err)
	}
	if err := unix.Mount(d.socketDir, req.TargetPath, "none", unix.MS_BIND, ""); err != nil {
		return nil, status.Errorf(codes.Internal, "unable to mount %q: %v", req.TargetPath, err)
	}
	if err := unix.Mount("none", req.TargetPath, "none", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		_ = unix.Unmount(req.TargetPath, 0)
		return nil, status.Errorf(codes.Internal, "unable to remount %q read-only: %v", req.TargetPath, err)
	}
	log.Printf("published volume %s at %s (read-only)", req.VolumeId, req.TargetPath)
	return &csi.NodePublishVolumeResponse{}, nil
}

func (d *driver) NodeUnpublishVolume(_ context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	if req.VolumeId == "" || req.TargetPath == "" {
		return nil, status.Error(codes.InvalidArgument, "request missing required volume id or target path")
	}
	mounted, err := isMountPoint(req.TargetPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.Internal, "unable to check %s: %v", req.TargetPath, err)
	}
	if mounted {
		if err := unix.Unmount(req.TargetPath, 0); err != nil {
			return nil, status.Errorf(codes.Internal, "unable to unmount %q: %v", req.TargetPath, err)
		}
	}
	if err := os.Remove(req.TargetPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.Internal, "unable to remove target path %q: %v", req.TargetPath, err)
	}
	log.Printf("unpublished volume %s from %s", req.VolumeId, req.TargetPath)
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

// isMountPoint reports whether path is listed as a mount point in /proc/self/mountinfo.
func isMountPoint(path string) (bool, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	clean := filepath.Clean(path)
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 && unescapeMountPath(fields[4]) == clean {
			return true, nil
		}
	}
	return false, nil
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space, and so on).
func unescapeMountPath(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				out.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		out.WriteByte(s[i])
	}
	return out.String()
}
