#!/usr/bin/env python3
"""Tutorial two, the producer: persistent tasks to the durable queue 'task_queue'; argument: how many."""
import sys

import pika

from common import parameters

connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.queue_declare(queue='task_queue', durable=True)
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
    message = f"task {i}."
    channel.basic_publish(exchange='', routing_key='task_queue', body=message,
                          properties=pika.BasicProperties(delivery_mode=2))  # persistent
    print(f" [x] Sent {message}", flush=True)
connection.close()
