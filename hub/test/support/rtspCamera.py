#!/usr/bin/python3
"""A live RTSP camera for the hub's tests: H.264 at rtsp://127.0.0.1:PORT/cam, a still test card over
which a bouncing ball shows for SHOW seconds at the end of every CYCLE seconds (so motion starts and stops).
Usage: rtspCamera.py PORT WIDTH HEIGHT FPS CYCLE SHOW GOP [NOISE BITRATE]: GOP is the keyframe interval in
frames; NOISE (0-1, default 0) blends in sensor-like snow; BITRATE is x264's in kbit/s (default 2048). Prints "ready" once it listens. Needs Debian's
gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-{base,good,ugly} (and -bad for H.265).
Environment, all optional:
  RTSP_USER, RTSP_PASSWORD   require these (Basic auth), as a camera with a password does
  RTSP_CODEC                 h264 (default) or h265 (a camera browsers cannot play live)
  RTSP_SUB                   WxH: also serve the same scene at that size on /sub (a camera's substream)
  RTSP_AUDIO                 opus, aac or pcma: add a sound track (a tone) to every stream"""
import os
import sys
import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port, width, height, fps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cycle, show, gop = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
noise = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
bitrate = int(sys.argv[9]) if len(sys.argv) > 9 else 2048
codec = os.environ.get("RTSP_CODEC", "h264")
audio = os.environ.get("RTSP_AUDIO", "")
Gst.init(None)


def launch_for(width, height, bitrate):
    caps = f"video/x-raw,width={width},height={height},framerate={fps}/1"
    ball = max(32, height // 3)
    snow_pad = f" sink_2::alpha={noise}" if noise > 0 else ""
    snow_src = f" videotestsrc is-live=true pattern=snow ! {caps} ! mix.sink_2" if noise > 0 else ""
    if codec == "h265":
        encode = (
            f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={bitrate}"
            " ! rtph265pay name=pay0 pt=96"
        )
    else:
        encode = (
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={bitrate}"
            " ! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96"
        )
    sound = {
        "opus": "opusenc ! rtpopuspay name=pay1 pt=97",
        "aac": "voaacenc ! rtpmp4gpay name=pay1 pt=97",
        "pcma": "audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8",
    }.get(audio)
    sound_src = f" audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! {sound}" if sound else ""
    return (
        f"( compositor name=mix sink_1::xpos={width // 2 - ball // 2} sink_1::ypos={height // 2 - ball // 2}"
        f" sink_1::alpha=0{snow_pad}"
        f" ! {caps} ! videoconvert ! video/x-raw,format=I420 ! {encode}"
        f" videotestsrc is-live=true pattern=gradient ! {caps} ! mix.sink_0"
        f" videotestsrc is-live=true pattern=ball ! video/x-raw,width={ball},height={ball},framerate={fps}/1"
        f" ! mix.sink_1{snow_src}{sound_src} )"
    )



def configure(_factory, media):
    pad = media.get_element().get_by_name("mix").get_static_pad("sink_1")
    start = GLib.get_monotonic_time()

    def tick():
        t = (GLib.get_monotonic_time() - start) / 1e6
        pad.set_property("alpha", 1.0 if t % cycle >= cycle - show else 0.0)
        return True

    GLib.timeout_add(50, tick)


server = GstRtspServer.RTSPServer()
server.set_address(os.environ.get("RTSP_ADDRESS", "127.0.0.1"))
server.set_service(port)
user, password = os.environ.get("RTSP_USER"), os.environ.get("RTSP_PASSWORD")
if user:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password or ""), token)
    server.set_auth(auth)


def mount(path, launch):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.connect("media-configure", configure)
    if user:
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("viewer", "media.factory.access", True)
        permissions.add_permission_for_role("viewer", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(path, factory)


mount("/cam", launch_for(width, height, bitrate))
sub = os.environ.get("RTSP_SUB")
if sub:
    sub_width, sub_height = (int(n) for n in sub.split("x"))
    mount("/sub", launch_for(sub_width, sub_height, max(256, bitrate // 8)))
server.attach(None)
print("ready", flush=True)
GLib.MainLoop().run()
