{"_id": {"a": [1, {"$numberDouble": "2.5"}], "d": {"$date": {"$numberLong": "1706606613000"}}}}
