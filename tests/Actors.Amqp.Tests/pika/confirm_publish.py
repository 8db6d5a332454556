#!/usr/bin/env python3
"""A publisher with confirms: publishes 'message N' for N in [first, first+count) to a queue and prints
'confirmed N' once the node confirmed each; stops at the first error (a node killed mid-run)."""
import sys

import pika

from common import parameters

queue, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.confirm_delivery()
for n in range(first, first + count):
    try:
        # BlockingChannel.basic_publish with confirms returns once the broker acked (raises on nack/return).
        channel.basic_publish(exchange='', routing_key=queue, body=f"message {n}",
                              properties=pika.BasicProperties(delivery_mode=2), mandatory=True)
    except Exception as error:  # the node went away: what was confirmed before is what counts
        print(f"stopped {type(error).__name__}", flush=True)
        sys.exit(1)
    print(f"confirmed {n}", flush=True)
connection.close()
