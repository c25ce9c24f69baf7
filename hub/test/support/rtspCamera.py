#!/usr/bin/python3
"""A live RTSP camera for the hub's tests: H.264 at rtsp://127.0.0.1:PORT/cam, a still test card over
which a bouncing ball shows for SHOW seconds at the end of every CYCLE seconds (so motion starts and stops).
Usage: rtspCamera.py PORT WIDTH HEIGHT FPS CYCLE SHOW GOP [NOISE BITRATE]: GOP is the keyframe interval in
frames; NOISE (0-1, default 0) blends in sensor-like snow; BITRATE is x264's in kbit/s (default 2048). Prints "ready" once it listens. Needs Debian's
gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-{base,good,ugly}."""
import sys
import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port, width, height, fps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cycle, show, gop = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
noise = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
bitrate = int(sys.argv[9]) if len(sys.argv) > 9 else 2048
Gst.init(None)
caps = f"video/x-raw,width={width},height={height},framerate={fps}/1"
ball = max(32, height // 3)
snow_pad = f" sink_2::alpha={noise}" if noise > 0 else ""
snow_src = f" videotestsrc is-live=true pattern=snow ! {caps} ! mix.sink_2" if noise > 0 else ""
launch = (
    f"( compositor name=mix sink_1::xpos={width // 2 - ball // 2} sink_1::ypos={height // 2 - ball // 2}"
    f" sink_1::alpha=0{snow_pad}"
    f" ! {caps} ! videoconvert ! video/x-raw,format=I420"
    f" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={bitrate}"
    f" ! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96"
    f" videotestsrc is-live=true pattern=gradient ! {caps} ! mix.sink_0"
    f" videotestsrc is-live=true pattern=ball ! video/x-raw,width={ball},height={ball},framerate={fps}/1"
    f" ! mix.sink_1{snow_src} )"
)


def configure(_factory, media):
    pad = media.get_element().get_by_name("mix").get_static_pad("sink_1")
    start = GLib.get_monotonic_time()

    def tick():
        t = (GLib.get_monotonic_time() - start) / 1e6
        pad.set_property("alpha", 1.0 if t % cycle >= cycle - show else 0.0)
        return True

    GLib.timeout_add(50, tick)


factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(launch)
factory.set_shared(True)
factory.connect("media-configure", configure)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
server.get_mount_points().add_factory("/cam", factory)
server.attach(None)
print("ready", flush=True)
GLib.MainLoop().run()
