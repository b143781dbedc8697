#!/usr/bin/env python3
"""Clicks an item of a tray icon's menu as a desktop's tray would: reads the StatusNotifierItem's
Menu property, walks its com.canonical.dbusmenu layout for the item labelled LABEL and sends
it a "clicked" event. Prints the labels it saw when the item is not there.
Usage: tray-menu.py SENDER ITEM_PATH LABEL"""
import sys
import time

from gi.repository import Gio, GLib

sender, item_path, wanted = sys.argv[1:4]
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(path, iface, method, args, reply):
    return bus.call_sync(sender, path, iface, method, args, GLib.VariantType(reply),
                         Gio.DBusCallFlags.NONE, 5000, None).unpack()


menu = call(item_path, "org.freedesktop.DBus.Properties", "Get",
            GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", "Menu")), "(v)")[0]
_, layout = call(menu, "com.canonical.dbusmenu", "GetLayout",
                 GLib.Variant("(iias)", (0, -1, ["label"])), "(u(ia{sv}av))")
seen = []


def find(node):
    item_id, props, children = node
    label = props.get("label", "").replace("_", "")
    seen.append(label)
    if label == wanted:
        return item_id
    for child in children:
        found = find(child)
        if found is not None:
            return found
    return None


found = find(layout)
if found is None:
    sys.exit(f"tray-menu: no item {wanted!r} in the menu (saw {seen})")
bus.call_sync(sender, menu, "com.canonical.dbusmenu", "Event",
              GLib.Variant("(isvu)", (found, "clicked", GLib.Variant("i", 0), int(time.time()))),
              None, Gio.DBusCallFlags.NONE, 5000, None)
print(f"tray-menu: clicked {wanted!r} (item {found})")
