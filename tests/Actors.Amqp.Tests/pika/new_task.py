# Tutorial two's producer: a durable queue, persistent messages, and publisher confirms so each send waits for the commit.
import sys
import pika

port, count = int(sys.argv[1]), int(sys.argv[2])
connection = pika.BlockingConnection(pika.ConnectionParameters(host="localhost", port=port))
channel = connection.channel()
channel.queue_declare(queue="task_queue", durable=True)
channel.confirm_delivery()
for i in range(count):
    message = "task %d%s" % (i, "." * (i % 3))
    channel.basic_publish(exchange="", routing_key="task_queue", body=message,
                          properties=pika.BasicProperties(delivery_mode=2, message_id="task-%d" % i), mandatory=True)
print(" [x] Sent %d" % count)
connection.close()
