#!/usr/bin/env python3
"""Tutorial one, the producer: one message to the queue 'hello' through the default exchange."""
import sys

import pika

from common import parameters

connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.queue_declare(queue='hello')
body = ' '.join(sys.argv[1:]) or 'Hello World!'
channel.basic_publish(exchange='', routing_key='hello', body=body)
print(f" [x] Sent {body!r}", flush=True)
connection.close()
