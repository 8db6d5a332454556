#!/usr/bin/env python3
"""Drains a queue: prints each message's body and acknowledges it, until none arrived for IDLE_S seconds."""
import sys

import pika

from common import parameters, IDLE_S

connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.basic_qos(prefetch_count=100)
received = 0

def callback(ch, method, properties, body):
    global received
    received += 1
    print(body.decode(), flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)

channel.basic_consume(queue=sys.argv[1], on_message_callback=callback)
while True:
    before = received
    connection.process_data_events(time_limit=IDLE_S)
    if received == before:
        break
connection.close()
