# %post of tappass: what Fedora's %systemd_post does, plus the daemon-reload that Fedora's
# systemd package performs in its file triggers (absent where systemd is not an rpm, e.g. rpm on
# Debian). $1 is the number of tappass packages installed after this transaction: 1 on a first
# installation, 2 on an upgrade. Every systemctl call tolerates a missing systemctl or a systemd
# that is not running (`|| :`), as the Fedora macros do.

# Load the new or changed unit files.
systemctl daemon-reload >/dev/null 2>&1 || :

if [ "$1" -eq 1 ]; then
    # First installation: apply the presets (Fedora's convention; /usr/lib/systemd/system-preset/
    # 80-tappass.preset says enable for both). Enabled, not started: start it with
    # `systemctl start tappass` (or `systemctl enable --now tappass` where a preset said disable).
    # tappass.socket is left alone: socket activation is optional.
    systemctl --no-reload preset tappass.service tappass-health.timer tappass-backup.timer >/dev/null 2>&1 || :

    cat <<'MSG'
TapPass: tappass.service, tappass-health.timer and tappass-backup.timer are enabled by preset.
Start them:
    systemctl start tappass tappass-health.timer tappass-backup.timer
It listens on 127.0.0.1:9620 by default. On its first start the daemon writes the first admin
key, readable by root only, to
    /var/lib/tappass/admin.key   (= /var/lib/private/tappass/admin.key)
Read it as root, keep it somewhere safe, then delete the file:
    sudo cat /var/lib/tappass/admin.key && sudo rm /var/lib/tappass/admin.key
Configuration: /etc/tappass/tappass.toml. Provider keys are systemd credentials:
    /usr/share/doc/tappass/examples/credentials.conf.example
MSG
fi
exit 0
