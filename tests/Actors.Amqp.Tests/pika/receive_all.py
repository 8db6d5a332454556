#!/usr/bin/env python3
"""Drains a queue: prints each message's body and acknowledges it, until none arrived for IDLE_S seconds."""
import sys

import pika

from common import parameters, Consuming

connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.basic_qos(prefetch_count=100)
consuming = Consuming(connection, expect=0)

def callback(ch, method, properties, body):
    print(body.decode(), flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)
    consuming.arrived()

channel.basic_consume(queue=sys.argv[1], on_message_callback=callback)
consuming.run()
connection.close()
