console.log('yizheng');
