{"_id": {"$numberInt": "42"}}
